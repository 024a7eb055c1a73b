"""How far re-ordering the first phase's top hits could go, by depth, on Home Depot (after bench/tenant_reranker.py,
same index and split): nDCG@10 of each validation query's top 10, 30, 100 and 200 (as the first phase ranks them, from
a served first page's candidates) with its judged products sorted first, the ceiling of any re-ranker reading that
deep. The training run's validation queries only: the unseen 20% are not looked at.

    python bench/order_ceiling.py   # writes bench/results/order-ceiling.{json,md}
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

DEPTHS = (10, 30, 100, 200)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings, sets = query_sets(args.index, args.seed)
    engine = open_engine(args.index, settings)
    ceilings: dict[int, list[float]] = {depth: [] for depth in DEPTHS}
    try:
        for query, graded in sorted(sets["validation"].items()):
            ids = [h.product["id"] for h in engine.first_phase(query, max(DEPTHS))]
            for depth in DEPTHS:
                best_first = sorted(ids[:depth], key=lambda pid: -graded.get(pid, 0))
                ceilings[depth].append(ndcg_at_k(best_first, graded, 10))
    finally:
        engine.close()
    means = {depth: round(statistics.fmean(values), 4) for depth, values in ceilings.items()}
    where = machine()
    text = "\n".join([
        "# How far re-ordering the first phase's top hits could go: Home Depot", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}. nDCG@10 of the first phase's top hits with the judged "
        f"products sorted first, on the training run's {len(sets['validation'])} validation queries.", "",
        "| hits re-ordered | nDCG@10 at best |", "|---|---|", *[f"| {d} | {v} |" for d, v in means.items()], ""])
    write_results(RESULTS, "order-ceiling", {"machine": where, "ceiling_ndcg@10": means}, text)
    print(text)


if __name__ == "__main__":
    main()
