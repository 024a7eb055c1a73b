"""Whether a cross-encoder version's selective gate holds where it re-ranks (after bench/tenant_reranker.py, same
index and split): each query's top 30 as the pipeline serves them without it, all read by the version at its
weight, nDCG@10 before and after, by where the query's top ten spread falls against the version's quartiles
(`rerank_spreads`: closer than the lower, between, at or past the upper, the searches the gate skips unless the
version's check found it gained there), on the training run's validation queries (where such a choice is made)
and on the unseen 20%.

    python bench/reranker_gate.py --version v0012   # writes bench/results/reranker-gate-v0012.{json,md}
"""

from __future__ import annotations

import statistics

import numpy as np
from reranker_combination import (  # a sibling script: bench/ is on the path
    top_hits,
    version_graph,
    version_run,
    without_reranker,
    write_report,
)

from vitrina.engine import open_engine
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.rank.cross_encoder import combined_order, score_spread


def main() -> None:
    args, settings, sets = version_run("a cross-encoder version registered in the index, with its spreads")
    means: dict[str, dict[str, float]] = {}
    with without_reranker(open_engine(args.index, settings)) as engine:
        manifest = engine.models.manifest(args.version)
        if manifest.rerank_spreads is None:
            raise SystemExit(f"{args.version} has no spreads: it reads every search alike")
        close, apart = manifest.rerank_spreads
        wide = "apart (skipped)" if manifest.rerank_skips_apart else "apart (read)"
        model = version_graph(engine, args.version)
        for name, gains in sets.items():
            by_part: dict[str, list[tuple[float, float]]] = {"close": [], "between": [], wide: []}
            for graded, ids, scores, pairs in top_hits(engine, gains):
                order = combined_order(scores, model.logits(pairs), manifest.rerank_weight)
                spread = score_spread(scores)
                part = "close" if spread < close else wide if spread >= apart else "between"
                by_part[part].append((ndcg_at_k(ids, graded, 10), ndcg_at_k([ids[i] for i in order], graded, 10)))
            means[name] = {}
            for part, rows in by_part.items():
                before, after = np.array(rows).T if rows else (np.zeros(1), np.zeros(1))
                means[name][f"{part}: queries"] = len(rows)
                means[name][f"{part}: without"] = round(statistics.fmean(before), 4)
                means[name][f"{part}: change with it"] = round(float(np.mean(after - before)), 4)
            print(name, means[name], flush=True)
    write_report(args.results or f"reranker-gate-{args.version}",
                 f"# Where the cross-encoder {args.version} gains, by its gate's quartiles: Home Depot",
                 f"nDCG@10 of the top 30 as served without it, and its change with all 30 read at the version's weight "
                 f"({manifest.rerank_weight}), by the query's top ten spread against the version's quartiles "
                 f"({close:.4g}, {apart:.4g}); the validation queries are the training run's own, the unseen 20% are "
                 "never trained or chosen on.", "queries by spread", args.version, sets, means)


if __name__ == "__main__":
    main()
