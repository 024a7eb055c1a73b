"""The cross-encoder phase under two (or more) values of one tuning setting, in one process: on Home Depot (after
bench/tenant_model.py and bench/tenant_reranker.py, same index and split), engines on the same index that differ only
in that setting search each unseen query in turn (which goes first rotates), under the same time budget; per value
the phase's added ms (p50, p95, mean), the pairs it read in time, the searches it skipped and nDCG@10. One query at
a time, so a pass always runs alone (rank/cross_encoder.OnnxCrossEncoder); this host is shared and its speed
drifts, so only figures taken side by side in one process are compared.

    python bench/reranker_side_by_side.py --version v0003 --setting rerank_threads --values 1 2 \
        --results reranker-threads-v0003                       # bench/results/reranker-threads-v0003.{json,md}
    python bench/reranker_side_by_side.py --version v0005 --setting rerank_selective --values false true \
        --results reranker-selective-v0005
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import NamedTuple

from reranker_combination import RESULTS, query_sets  # sibling scripts: bench/ is on the path when run
from tenant_reranker import added_ms

from vitrina.config import TuningSettings
from vitrina.engine import open_engine
from vitrina.evaluate.machine import machine
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.evaluate.results import write_results


class PhaseRun(NamedTuple):
    """One search's cross-encoder phase: nDCG@10 of what it served, its ms, the hits it read, whether it skipped."""

    ndcg: float
    ms: float
    read: int
    skipped: bool


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, help="a cross-encoder version registered in the index")
    parser.add_argument("--budget", type=float, default=60.0, help="the phase's time budget, ms")
    parser.add_argument("--setting", default="rerank_threads", help="the tuning setting the engines differ in")
    parser.add_argument("--values", nargs="+", default=["1", "2"], help="its values, one engine each")
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default="reranker-side-by-side", help="the results files' name")
    args = parser.parse_args()
    settings, sets = query_sets(args.index, args.seed)
    unseen = sets["unseen 20%"]
    engines = {}
    for value in args.values:  # validated, so "2" is a number and "false" a bool where the setting is one
        tuning = TuningSettings.model_validate({**settings.tuning.model_dump(), "rerank_budget_ms": args.budget,
                                                "rerank_depth": 30, args.setting: value})
        engines[value] = open_engine(args.index, settings.model_copy(update={"tuning": tuning}))
    first = engines[args.values[0]]
    serving = first.models.reranker()
    first.use_reranker(args.version)  # the registry is the index's: one call serves them all
    runs: dict[str, list[PhaseRun]] = {value: [] for value in args.values}
    try:
        for number, (query, graded) in enumerate(sorted(unseen.items())):
            turn = number % len(args.values)
            for value in args.values[turn:] + args.values[:turn]:
                response = engines[value].search(query, size=30)
                ranked = [h.product["id"] for h in response.hits]
                report = next((p for p in response.phases if p.name == "cross_encoder"), None)
                runs[value].append(PhaseRun(ndcg=ndcg_at_k(ranked, graded, 10), ms=report.ms if report else 0.0,
                                            read=sum(h.explanation.cross_encoder is not None for h in response.hits),
                                            skipped=report is None or report.budget_ms is None))
    finally:
        first.use_reranker(serving)
        for engine in engines.values():
            engine.close()
    figures = {}
    for value, run in runs.items():
        figures[value] = {**added_ms([r.ms for r in run]),
                          "pairs_read_mean": round(statistics.fmean(r.read for r in run), 1),
                          "skipped": round(statistics.fmean(r.skipped for r in run), 3),
                          "ndcg@10": round(statistics.fmean(r.ndcg for r in run), 4)}
        print(value, figures[value], flush=True)
    where = machine()
    text = "\n".join([
        f"# The cross-encoder {args.version} by {args.setting}: Home Depot", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}. The {len(unseen)} unseen queries, each searched "
        f"by engines differing only in {args.setting}, side by side in one process (which goes first rotates); the "
        f"top 30 within {args.budget:g} ms.", "",
        f"| {args.setting} | added p50 ms | added p95 ms | added mean ms | pairs read (mean of 30) | skipped | "
        "nDCG@10 |", "|---|---|---|---|---|---|---|",
        *[f"| {v} | {f['added_ms_p50']} | {f['added_ms_p95']} | {f['added_ms_mean']} | {f['pairs_read_mean']} | "
          f"{f['skipped']:.0%} | {f['ndcg@10']} |" for v, f in figures.items()], ""])
    write_results(RESULTS, args.results, {"machine": where, "version": args.version, "budget_ms": args.budget,
                                          "setting": args.setting, "figures": figures}, text)
    print(text)


if __name__ == "__main__":
    main()
