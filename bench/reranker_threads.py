"""The cross-encoder phase on one thread against more, in one process: on Home Depot (after bench/tenant_model.py
and bench/tenant_reranker.py, same index and split), two engines on the same index that differ only in
settings.tuning.rerank_threads search each unseen query in turn (which goes first alternates), under the same time
budget; per thread count the phase's added ms (p50, p95), the pairs it read in time and nDCG@10. One query at a
time, so a pass always runs alone (rank/cross_encoder.OnnxCrossEncoder); this host is shared and its speed drifts,
so only figures taken side by side in one process are compared.

    python bench/reranker_threads.py --version v0002 --budget 60   # bench/results/reranker-threads.{json,md}
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from reranker_combination import RESULTS, query_sets  # a sibling script: bench/ is on the path when run

from vitrina.engine import open_engine
from vitrina.evaluate.machine import machine
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.evaluate.results import write_results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="a cross-encoder version registered in the index")
    parser.add_argument("--budget", type=float, default=60.0, help="the phase's time budget, ms")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default="reranker-threads", help="the results files' name")
    args = parser.parse_args()
    settings, sets = query_sets(args.index, args.seed)
    unseen = sets["unseen 20%"]
    engines = {}
    for threads in args.threads:
        tuning = settings.tuning.model_copy(update={"rerank_budget_ms": args.budget, "rerank_threads": threads,
                                                    "rerank_depth": 30})
        engines[threads] = open_engine(args.index, settings.model_copy(update={"tuning": tuning}))
    serving = engines[args.threads[0]].models.reranker()
    engines[args.threads[0]].use_reranker(args.version)  # the registry is the index's: one call serves both
    runs: dict[int, dict[str, list[float]]] = {t: {"ms": [], "read": [], "ndcg": []} for t in args.threads}
    try:
        for number, (query, graded) in enumerate(sorted(unseen.items())):
            order = args.threads if number % 2 == 0 else args.threads[::-1]
            for threads in order:
                response = engines[threads].search(query, size=30)
                ranked = [h.product["id"] for h in response.hits]
                runs[threads]["ndcg"].append(ndcg_at_k(ranked, graded, 10))
                runs[threads]["read"].append(sum(h.explanation.cross_encoder is not None for h in response.hits))
                runs[threads]["ms"] += [p.ms for p in response.phases if p.name == "cross_encoder"]
    finally:
        engines[args.threads[0]].use_reranker(serving)
        for engine in engines.values():
            engine.close()
    figures = {}
    for threads, run in runs.items():
        ms = sorted(run["ms"])
        figures[threads] = {"added_ms_p50": round(statistics.median(ms), 1), "added_ms_p95": round(ms[int(len(ms) * 0.95)], 1),
                            "pairs_read_mean": round(statistics.fmean(run["read"]), 1),
                            "ndcg@10": round(statistics.fmean(run["ndcg"]), 4)}
        print(threads, figures[threads], flush=True)
    where = machine()
    text = "\n".join([
        f"# The cross-encoder {args.version} on one thread against more: Home Depot", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}. The {len(unseen)} unseen queries, each searched "
        f"by engines differing only in the phase's threads, side by side in one process (which goes first "
        f"alternates); the top 30 within {args.budget:g} ms.", "",
        "| threads | added p50 ms | added p95 ms | pairs read (mean of 30) | nDCG@10 |", "|---|---|---|---|---|",
        *[f"| {t} | {f['added_ms_p50']} | {f['added_ms_p95']} | {f['pairs_read_mean']} | {f['ndcg@10']} |"
          for t, f in figures.items()], ""])
    write_results(RESULTS, args.results, {"machine": where, "version": args.version, "budget_ms": args.budget,
                                          "figures": {str(t): f for t, f in figures.items()}}, text)
    print(text)


if __name__ == "__main__":
    main()
