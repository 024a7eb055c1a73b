"""How a trained cross-encoder's logits are best combined with the order the hits come in, on Home Depot (after
bench/tenant_model.py and bench/tenant_reranker.py, same index and split): the version's graph reads each query's
top 30 (all of them, no time budget), then nDCG@10 of the incoming order, the model's order alone, reciprocal rank
fusion of the two orders at several shares, and the incoming scores plus the model's at several weights (standard
scores, rank/cross_encoder.combined_order), on the training run's validation queries (where a weight is chosen)
and on the unseen 20%.

    python bench/reranker_combination.py --version v0003   # writes bench/results/reranker-combination.{json,md}
    python bench/reranker_combination.py --version v0012 --weights 0.05 0.1 0.15 0.25 0.5 1 --results NAME
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tenant_reranker import tuned_index_settings  # a sibling script: bench/ is on the path when run

from vitrina.config import Settings
from vitrina.engine import Engine, open_engine
from vitrina.evaluate.datasets import load_qrels
from vitrina.evaluate.machine import machine
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.evaluate.results import write_results
from vitrina.learn.tuning.pairs import pairs_from_qrels, split_queries
from vitrina.learn.tuning.train import WEIGHT_STEPS, CatalogTexts, split_pairs
from vitrina.rank.cross_encoder import OnnxCrossEncoder, combined_order, fused_order

RESULTS = Path("bench/results")
DEPTH = 30
SHARES = (0.1, 0.25, 0.5, 0.75)


def version_run(version_help: str) -> tuple[argparse.Namespace, Settings, dict[str, dict[str, dict[str, int]]]]:
    """The command line of a bench over one registered version: its arguments, the tuned index's settings, and
    the training run's validation queries and the unseen 20%, each query with its products' gains."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help=version_help)
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", help="the results files' name (default: the script's)")
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHT_STEPS),
                        help="the cross-encoder's weights against the incoming scores to score (default: a check's)")
    args = parser.parse_args()
    settings, sets = query_sets(args.index, args.seed)
    return args, settings, sets


def query_sets(index: Path, seed: int) -> tuple[Settings, dict[str, dict[str, dict[str, int]]]]:
    """The tuned index's settings, and the training run's validation queries and the unseen 20% (split by
    `seed`), each query with its products' gains."""
    settings, qrels = tuned_index_settings(index)
    texts, judged = load_qrels(qrels)
    kept, held = split_queries(list(texts), 0.2, seed)
    _, check = split_pairs(pairs_from_qrels(qrels, set(kept)), settings.tuning.validation_fraction,
                           settings.tuning.seed)
    return settings, {"validation": check.gains(),
                      "unseen 20%": {texts[q]: {pid: rel - 1 for pid, rel in judged[q].items()} for q in held}}


def top_hits(engine: Engine, gains: dict[str, dict[str, int]]) -> Iterator[tuple[dict[str, int], list[str],
                                                                                np.ndarray, list[tuple[str, str]]]]:
    """Each query's top DEPTH as the engine serves it: its gains, the hits' ids and scores, the pairs to read."""
    catalog = CatalogTexts(engine)
    for query, graded in sorted(gains.items()):
        hits = engine.search(query, size=DEPTH).hits
        ids = [h.product["id"] for h in hits]
        catalog.load(ids)
        yield graded, ids, np.array([h.score for h in hits]), [(query, catalog.get(pid) or "") for pid in ids]


def table(first: str, sets: dict[str, dict], means: dict[str, dict[str, float]]) -> list[str]:
    """A markdown table: a row per method (`first` names the column), a column per query set."""
    names = list(sets)
    return [f"| {first} | {' | '.join(f'{n} ({len(sets[n])})' for n in names)} |", "|---|---|---|",
            *[f"| {method} | {' | '.join(str(means[n][method]) for n in names)} |" for method in means[names[0]]]]


def mean_ndcgs(engine: Engine, sets: dict[str, dict[str, dict[str, int]]],
               orders_of: Callable[[np.ndarray, list[tuple[str, str]]], dict[str, list[int]]]
               ) -> dict[str, dict[str, float]]:
    """Per query set, each method's mean nDCG@10 of the top DEPTH as it re-orders them; `orders_of(scores,
    pairs)` gives each method's order of a query's hits."""
    means: dict[str, dict[str, float]] = {}
    for name, gains in sets.items():
        ndcgs: dict[str, list[float]] = {}
        for graded, ids, scores, pairs in top_hits(engine, gains):
            for method, order in orders_of(scores, pairs).items():
                ndcgs.setdefault(method, []).append(ndcg_at_k([ids[i] for i in order], graded, 10))
        means[name] = {method: round(statistics.fmean(v), 4) for method, v in ndcgs.items()}
        print(name, means[name], flush=True)
    return means


def write_report(name: str, title: str, lead: str, first: str, version: str,
                 sets: dict[str, dict], means: dict[str, dict[str, float]]) -> None:
    """bench/results/<name>.{json,md}: the machine, the lead sentence and the table of `means`."""
    where = machine()
    text = "\n".join([title, "", f"{where['cpu']}, {where['cores']} cores; {where['when']}. {lead}", "",
                      *table(first, sets, means), ""])
    write_results(RESULTS, name, {"machine": where, "version": version, "ndcg@10": means}, text)
    print(text)


def orders(scores: np.ndarray, logits: np.ndarray, weights: list[float]) -> dict[str, list[int]]:
    out = {"incoming": list(range(len(logits))), "model alone": [int(i) for i in np.argsort(-logits, kind="stable")]}
    out.update({f"rank fusion, share {share}": fused_order(logits, share) for share in SHARES})
    out.update({f"scores, weight {weight}": combined_order(scores, logits, weight) for weight in weights})
    return out


def version_graph(engine: Engine, version: str) -> OnnxCrossEncoder:
    """A registered cross-encoder version's graph, read on the engine's search threads."""
    onnx, tokenizer = engine.models.files(version)
    return OnnxCrossEncoder(onnx, tokenizer, engine.settings.search_threads, engine.models.manifest(version).max_length)


@contextmanager
def without_reranker(engine: Engine) -> Iterator[Engine]:
    """The engine searching without its cross-encoder (the incoming order is the pipeline's without it); the
    serving one back and the engine closed after."""
    serving = engine.models.reranker()
    engine.use_reranker(None)
    try:
        yield engine
    finally:
        engine.use_reranker(serving)
        engine.close()


def main() -> None:
    args, settings, sets = version_run("a cross-encoder version registered in the index")
    with without_reranker(open_engine(args.index, settings)) as engine:
        model = version_graph(engine, args.version)
        means = mean_ndcgs(engine, sets, lambda scores, pairs: orders(scores, model.logits(pairs), args.weights))
    write_report(args.results or "reranker-combination",
                 f"# How the cross-encoder {args.version} is best combined with the incoming order: Home Depot",
                 f"nDCG@10 of the top {DEPTH} as re-ordered, all of it read (no time budget); the validation queries "
                 "are the training run's own (a weight is chosen there), the unseen 20% are never trained or chosen "
                 "on.", "combination", args.version, sets, means)


if __name__ == "__main__":
    main()
