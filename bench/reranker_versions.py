"""Can a training run's held-out check tell cross-encoder versions apart? On Home Depot (after
bench/tenant_model.py and bench/tenant_reranker.py, same index and split), each version's graph reads each query's
top 30 (all of them, no time budget) and re-orders it at the version's own weight; per query set (the training
run's validation queries, the unseen 20%) the mean nDCG@10 of each, and for each version after the first its
paired difference per query from the one before it, with its standard error and a seeded bootstrap 95% interval.
A difference inside about two standard errors is one the check cannot see.

    python bench/reranker_versions.py --versions v0002 v0003 v0004   # bench/results/reranker-versions.{json,md}
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
from pathlib import Path

from reranker_combination import RESULTS, query_sets, top_hits  # a sibling script: bench/ is on the path

from vitrina.engine import open_engine
from vitrina.evaluate.machine import machine
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.evaluate.results import write_results
from vitrina.rank.cross_encoder import OnnxCrossEncoder, combined_order

BOOTSTRAP = 2000


def paired(first: list[float], second: list[float], seed: int) -> dict[str, float]:
    """The mean of second minus first per query, its standard error and a bootstrap 95% interval."""
    differences = [b - a for a, b in zip(first, second, strict=True)]
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(differences, k=len(differences))) for _ in range(BOOTSTRAP))
    return {"difference": round(statistics.fmean(differences), 4),
            "standard_error": round(statistics.stdev(differences) / math.sqrt(len(differences)), 4),
            "low": round(means[int(0.025 * BOOTSTRAP)], 4), "high": round(means[int(0.975 * BOOTSTRAP)], 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", nargs="+", required=True, help="cross-encoder versions in the index, in order")
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default="reranker-versions", help="the results files' name")
    args = parser.parse_args()
    settings, sets = query_sets(args.index, args.seed)
    engine = open_engine(args.index, settings)
    graphs = {}
    for version in args.versions:
        onnx, tokenizer = engine.models.files(version)
        manifest = engine.models.manifest(version)
        graphs[version] = (OnnxCrossEncoder(onnx, tokenizer, settings.tuning.rerank_threads, manifest.max_length),
                           manifest.rerank_weight or 1.0)
    serving = engine.models.reranker()
    engine.use_reranker(None)  # the incoming order is the pipeline's without it
    figures: dict[str, dict] = {}
    try:
        for name, gains in sets.items():
            ndcgs: dict[str, list[float]] = {"incoming": [], **{v: [] for v in graphs}}
            for graded, ids, scores, pairs in top_hits(engine, gains):
                ndcgs["incoming"].append(ndcg_at_k(ids, graded, 10))
                for version, (model, weight) in graphs.items():
                    order = combined_order(scores, model.logits(pairs), weight)
                    ndcgs[version].append(ndcg_at_k([ids[i] for i in order], graded, 10))
            figures[name] = {"queries": len(gains), **{k: round(statistics.fmean(v), 4) for k, v in ndcgs.items()},
                             "paired": {f"{b} - {a}": paired(ndcgs[a], ndcgs[b], args.seed)
                                        for a, b in itertools.pairwise(args.versions)}}
            print(name, figures[name], flush=True)
    finally:
        engine.use_reranker(serving)
        engine.close()
    where = machine()
    means = [f"| {name} ({f['queries']}) | {f['incoming']} | {' | '.join(str(f[v]) for v in graphs)} |"
             for name, f in figures.items()]
    differences = [f"| {name} | {change} | {p['difference']:+} | {p['standard_error']} | {p['low']:+} to "
                   f"{p['high']:+} |" for name, f in figures.items() for change, p in f["paired"].items()]
    text = "\n".join([
        f"# Can the held-out check tell cross-encoders {', '.join(args.versions)} apart? Home Depot", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}. nDCG@10 of each query's top 30, all read, each "
        f"version at its own weight ({', '.join(f'{v} {w}' for v, (_, w) in graphs.items())}); each difference per "
        f"query, with its standard error and a bootstrap 95% interval ({BOOTSTRAP} draws, seed {args.seed}).", "",
        f"| queries | without | {' | '.join(graphs)} |", "|---" * (2 + len(graphs)) + "|", *means, "",
        "| queries | difference of | mean | standard error | 95% interval |", "|---|---|---|---|---|",
        *differences, ""])
    write_results(RESULTS, args.results, {"machine": where, "versions": args.versions, "figures": figures}, text)
    print(text)


if __name__ == "__main__":
    main()
