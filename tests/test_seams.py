"""The seams new layers plug into: stages by Protocol, later ranking phases with budgets, registries without
import side effects, an import graph without circles."""

import ast
import time
from pathlib import Path

import pytest

from vitrina.engine import Engine
from vitrina.rank.profiles import PhaseSpec, load_profiles
from vitrina.rank.ranker import run_phases
from vitrina.rank.signals import RankContext

SRC = Path(__file__).resolve().parents[1] / "src"


class Reverse:
    name = "reverse"

    def rerank(self, context, hits, deadline):
        return list(reversed(hits))


class Broken:
    name = "broken"

    def rerank(self, context, hits, deadline):
        raise RuntimeError("model server is down")


class Slow:
    name = "slow"

    def rerank(self, context, hits, deadline):
        time.sleep(max(0.0, deadline - time.perf_counter()) + 0.02)
        return hits


class Thief:
    name = "thief"

    def rerank(self, context, hits, deadline):
        return hits[:1]


def test_later_phases_see_only_the_top_and_keep_the_rest(sample_engine):
    hits = sample_engine.search("shirt", size=20).hits
    context = RankContext(parsed=sample_engine.search("shirt").understanding)
    out, reports = run_phases(context, hits, [PhaseSpec(name="reverse", depth=5)], {"reverse": Reverse()})
    assert [h.product["id"] for h in out] == [h.product["id"] for h in [*reversed(hits[:5]), *hits[5:]]]
    assert reports[0].status == "ran" and reports[0].depth == 5


@pytest.mark.parametrize("phase,status", [(Broken(), "failed: RuntimeError"), (Thief(), "failed: returned other"),
                                          (Slow(), "late")])
def test_a_failing_or_slow_phase_never_fails_the_search(sample_engine, phase, status):
    hits = sample_engine.search("shirt", size=10).hits
    context = RankContext(parsed=sample_engine.search("shirt").understanding)
    out, reports = run_phases(context, hits, [PhaseSpec(name=phase.name, depth=5, budget_ms=10)], {phase.name: phase})
    assert reports[0].status.startswith(status)
    if status != "late":
        assert [h.product["id"] for h in out] == [h.product["id"] for h in hits]  # the order it had


def test_a_profile_plugs_a_phase_into_the_engine(sample_engine, tmp_path):
    profiles = load_profiles("fashion")
    full = profiles.get("full")
    profiles.profiles["flipped"] = full.model_copy(update={"name": "flipped",
                                                           "phases": [PhaseSpec(name="reverse", depth=3)]})
    engine = Engine(sample_engine.settings.model_copy(update={"response_cache_size": 0}),
                    encoder=sample_engine.encoder.encoder, phases={"reverse": Reverse()})
    engine.profiles = profiles
    plain = [h.product["id"] for h in engine.search("shirt", size=5).hits]
    flipped = engine.search("shirt", size=5, profile="flipped")
    assert [h.product["id"] for h in flipped.hits] == [*reversed(plain[:3]), *plain[3:]]
    assert flipped.phases[0].name == "reverse" and "phases" in flipped.timings
    engine.close()


def test_registries_are_tables_not_import_side_effects():
    # The base modules import no plug-in (feeds.py used to import the adapters that import it).
    for base in ("catalog/feeds.py", "embed/encoder.py", "index/protocol.py"):
        assert not {m for m in _imports(SRC / "vitrina" / base) if m.startswith(("vitrina.catalog.myntra",
                    "vitrina.catalog.homedepot", "vitrina.index.edge", "vitrina.index.memory"))}
    from vitrina.catalog.registry import FEEDS, make_feed
    from vitrina.embed.registry import ENCODERS
    from vitrina.index.backends import BACKENDS

    assert {"tabular", "myntra", "homedepot"} <= set(FEEDS) and make_feed("myntra").name == "myntra"
    assert {"onnx-minilm", "sentence-transformers"} <= set(ENCODERS) and {"edge", "memory"} <= set(BACKENDS)
    with pytest.raises(ValueError, match="unknown feed 'shopify2'"):
        make_feed("shopify2")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:  # module level only: an import inside a function is a deliberate late binding
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("vitrina")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vitrina"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_the_import_graph_has_no_circle():
    modules = {".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): p
               for p in (SRC / "vitrina").rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    graph.pop("vitrina", None)  # the package facade re-exports; nothing inside imports it at module level
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path[path.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
