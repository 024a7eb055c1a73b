"""Relevance evaluation of the engine itself on the fashion and Home Depot sets, with ablations."""

from __future__ import annotations

import hashlib
import inspect
import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from vitrina.catalog.registry import make_feed
from vitrina.config import EncoderSettings, Settings
from vitrina.engine import Engine, open_engine
from vitrina.evaluate.bench import ReferenceBM25, real_products
from vitrina.evaluate.datasets import load_judge, load_qrels
from vitrina.evaluate.metrics import ndcg_at_k, recall_at_k
from vitrina.index.documents import INDEX_FORMAT
from vitrina.rank.ranker import RankPhase

MODES = ("bm25s", "bm25", "vector", "rrf", "full")  # bm25s: the independent reference BM25, run beside ours
EVAL_ROOT = Path("data/eval")


def content_index(dataset: str, feed_file: Path, encoder: EncoderSettings, feed: str | None = None) -> Path:
    """data/eval/<dataset>-<digest>: rebuilt when the catalog file, the encoder, the index format or the feed
    adapter's code (how its records map onto products) changes."""
    digest = hashlib.sha256(f"{encoder.backend}:{encoder.model}:format{INDEX_FORMAT}".encode())
    if feed is not None:
        digest.update(_adapter_source(feed))
    with open(feed_file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return EVAL_ROOT / f"{dataset}-{digest.hexdigest()[:12]}"


def _adapter_source(feed: str) -> bytes:
    """The source of the module that maps a feed's records (a vendor adapter's; the tabular feed's own)."""
    adapter = make_feed(feed)
    mapper = getattr(adapter, "map_one", None)
    module = inspect.getmodule(mapper if mapper is not None else type(adapter))
    return inspect.getsource(module).encode() if module is not None else feed.encode()


def eval_engine(dataset: str, feed_file: Path, feed: str, settings: Settings, index: Path | None = None,
                phases: dict[str, RankPhase] | None = None) -> Engine:
    """The dataset's index: built on first use, then reused while its content key holds. Every eval index shares
    one vector cache, so a rebuild for a new index format encodes nothing again."""
    if index is None:
        index = content_index(dataset, feed_file, settings.encoder, feed)
        if settings.encoder.cache_path is None:
            encoder = settings.encoder.model_copy(update={"cache_path": EVAL_ROOT / "vectors.sqlite"})
            settings = settings.model_copy(update={"encoder": encoder})
    engine = open_engine(index, settings, phases=phases)
    if engine.count() == 0:
        engine.ingest(feed_file, feed=feed, fresh=True)
    return engine


def _write_run(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _violates(judge: dict, product: dict, judge_module) -> bool:
    if "gender" in judge and product.get("gender") not in judge["gender"]:
        return True
    p = judge_module.paid_price(product)
    if judge.get("price_max") is not None and (p is None or p > judge["price_max"]):
        return True
    if judge.get("price_min") is not None and (p is None or p < judge["price_min"]):
        return True
    return any(judge_module.field(product, n) in banned for n, banned in judge.get("not", {}).items())


# The judgment fields the set's judge.py grades by; any other would be ignored in silence (a ceiling never applied).
JUDGE_FIELDS = frozenset({"articleType", "gender", "price_max", "price_min", "not", "attrs"})


def check_judgments(specs: list[dict], queries: Path) -> None:
    """Refuses a queries file whose judgments name a field the judge does not read, before any search runs."""
    for line, spec in enumerate(specs, 1):
        unknown = sorted(set(spec.get("judge", {})) - JUDGE_FIELDS)
        if unknown:
            raise ValueError(f"{queries} line {line} (query {spec.get('id')}): judge field {unknown[0]!r} is not "
                             f"one the judge reads ({', '.join(sorted(JUDGE_FIELDS))})")


def eval_fashion(engine: Engine, catalog: Path, queries: Path, modes=MODES, run_file: Path | None = None,
                 judge_path: Path | None = None, tick: Callable[[str], None] | None = None) -> dict:
    """Graded by the set's own judge.py (imported): the one beside the queries unless another is named."""
    judge = load_judge(judge_path or queries.parent / "judge.py")
    specs = judge.load_jsonl(queries)
    check_judgments(specs, queries)
    raw = {str(p["id"]): p for p in judge.load_jsonl(catalog)}
    reference = ReferenceBM25(iter(real_products(catalog, "myntra"))) if "bm25s" in modes else None
    report: dict = {}
    for mode in modes:
        per_cat: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        lines = []
        for spec in specs:
            if tick:
                tick(mode)
            turns = spec["turns"]
            if reference is not None and mode == "bm25s":
                ranked = reference.ranked(turns[-1], 100)
            else:
                talks = engine.profiles.get(mode).understanding == "conversation"  # reads the earlier turns
                response = engine.search(turns[-1], history=turns[:-1] if talks else None, size=100, profile=mode)
                ranked = [h.product["id"] for h in response.hits]
            grades = judge.grades(spec, raw.values())
            nd = judge.ndcg_at_k(ranked, grades)
            p10 = sum(1 for pid in ranked[:10] if grades.get(pid, 0) > 0) / 10
            top = [raw[pid] for pid in ranked[:10] if pid in raw]
            sat = sum(0 if _violates(spec["judge"], p, judge) else 1 for p in top) / max(1, len(top))
            per_cat[spec.get("category", "all")].append((nd, p10, sat))
            lines.append({"id": spec["id"], "results": ranked})
        if run_file and mode == "full":
            _write_run(run_file, lines)
        rows = [r for rs in per_cat.values() for r in rs]
        report[mode] = {"ndcg@10": _mean(rows, 0), "p@10": _mean(rows, 1), "constraint_satisfaction": _mean(rows, 2),
                        "per_category": {c: {"ndcg@10": _mean(rs, 0), "p@10": _mean(rs, 1),
                                             "constraint_satisfaction": _mean(rs, 2), "n": len(rs)}
                                         for c, rs in sorted(per_cat.items())}}
    return report


def eval_homedepot(engine: Engine, qrels: Path, products: Path, modes=MODES, limit: int | None = None,
                   run_file: Path | None = None, tick: Callable[[str], None] | None = None) -> dict:
    """Two protocols per mode: full-catalog retrieval, and re-ranking of each query's judged products."""
    texts, judged = load_qrels(qrels)
    ids = sorted(texts)[:limit] if limit else sorted(texts)
    reference = None
    if "bm25s" in modes:
        reference = ReferenceBM25(iter(real_products(products, "homedepot")))
    report = {}
    for mode in modes:
        nds, recalls, reranked, lines = [], [], [], []
        for qid in ids:
            if tick:
                tick(mode)
            if reference is not None and mode == "bm25s":
                ranked = reference.ranked(texts[qid], 100)
                order = reference.rerank(texts[qid], list(judged[qid]))
            else:
                ranked = [h.product["id"] for h in engine.search(texts[qid], size=100, profile=mode).hits]
                order = engine.rerank(texts[qid], list(judged[qid]), profile=mode)
            gains = {pid: rel - 1 for pid, rel in judged[qid].items()}
            nds.append(ndcg_at_k(ranked, gains, 10))
            reranked.append(ndcg_at_k(order, gains, 10))
            good = {pid for pid, rel in judged[qid].items() if rel >= 2.5}
            if good:
                recalls.append(recall_at_k(ranked, good, 100))
            lines.append({"id": qid, "results": ranked})
        if run_file and mode == "full":
            _write_run(run_file, lines)
        report[mode] = {"ndcg@10": round(statistics.fmean(nds), 4),
                        "recall@100": round(statistics.fmean(recalls), 4) if recalls else None,
                        "rerank_ndcg@10": round(statistics.fmean(reranked), 4), "queries": len(ids)}
    return report


def summary_markdown(dataset: str, report: dict, machine: dict) -> str:
    """A short table of the ablations, with the machine it ran on."""
    metrics = [k for k in next(iter(report.values())) if k not in ("per_category", "queries")]
    lines = [f"# {dataset} relevance", "", f"{machine['cpu']}, {machine['cores']} cores; {machine['when']}.", "",
             "| mode | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    lines += [f"| {mode} | " + " | ".join(str(row[m]) for m in metrics) + " |" for mode, row in report.items()]
    return "\n".join(lines) + "\n"


def _mean(rows, i) -> float:
    return round(statistics.fmean(r[i] for r in rows), 4) if rows else 0.0
