"""Do the first phase's signal weights hold the full pipeline back on Home Depot? After bench/tenant_model.py (same
index and split), with the cross-encoder off: each query's first 200 hits as the full profile ranks them, with
their signal scores; then every signal weight and the exact-title boost fitted by coordinate ascent on nDCG@10
(RankLib's coordinate ascent: one weight at a time over a grid of multiples, until a pass gains nothing),
fitted on the training run's validation queries, on its training queries, and on both, and scored on the unseen
20%. Beside it, the ceiling: the nDCG@10 the best order of the first 10, 30, 100 and 200 hits would reach.

    python bench/signal_weights.py     # writes bench/results/signal-weights.{json,md}
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import numpy as np
from tenant_reranker import tuned_index_settings  # a sibling script: bench/ is on the path when run

from vitrina.engine import open_engine
from vitrina.evaluate.datasets import load_qrels
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.learn.tuning.pairs import pairs_from_qrels, split_queries
from vitrina.learn.tuning.train import split_pairs

RESULTS = Path("bench/results")
DEPTH = 200  # the first phase scores 200 fused candidates (settings.retrieval.rank_depth)
BOOST = "exact_title"
MULTIPLES = (0.0, 0.25, 0.5, 0.75, 0.9, 1.1, 1.33, 1.5, 2.0, 3.0)
CEILINGS = (10, 30, 100, 200)
DISCOUNT = 1 / np.log2(np.arange(2, 12))


class Query:
    """One query's hits as features (a column per signal, then the boost), their gains, and its ideal DCG@10.
    nDCG here is evaluate.metrics.ndcg_at_k over arrays: the ascent scores every query some 70 times a pass."""

    def __init__(self, features: np.ndarray, gains: np.ndarray, ideal: float):
        self.features, self.gains, self.ideal = features, gains, ideal

    def ndcg(self, weights: np.ndarray, depth: int = 10) -> float:
        top = np.argsort(-(self.features @ weights), kind="stable")[:depth]
        return float((self.gains[top] * DISCOUNT[:len(top)]).sum() / self.ideal)

    def ceiling(self, depth: int) -> float:
        best = np.sort(self.gains[:depth])[::-1][:10]
        return float((best * DISCOUNT[:len(best)]).sum() / self.ideal)


def mean_ndcg(queries: list[Query], weights: np.ndarray) -> float:
    return statistics.fmean(q.ndcg(weights) for q in queries)


def ascent(queries: list[Query], start: np.ndarray, passes: int = 4) -> np.ndarray:
    """Coordinate ascent on mean nDCG@10: each weight in turn set to the best of its multiples (a zero weight
    tries multiples of 0.1), kept only where it gains."""
    weights, best = start.copy(), mean_ndcg(queries, start)
    for _ in range(passes):
        improved = False
        for i in range(len(weights)):
            scale = weights[i] or 0.1
            for multiple in MULTIPLES:
                trial = weights.copy()
                trial[i] = scale * multiple
                score = mean_ndcg(queries, trial)
                if score > best + 1e-5:
                    weights, best, improved = trial, score, True
        if not improved:
            break
    return weights


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--results", default="signal-weights")
    args = parser.parse_args()
    settings, qrels = tuned_index_settings(args.index)
    texts, judged = load_qrels(qrels)
    kept, held_out = split_queries(list(texts), 0.2, args.seed)
    held = set(held_out)
    _, check = split_pairs(pairs_from_qrels(qrels, set(kept)), settings.tuning.validation_fraction,
                           settings.tuning.seed)
    validation = set(check.gains())
    engine = open_engine(args.index, settings)
    served = engine.models.reranker()
    engine.use_reranker(None)  # the first phase alone; served again at the end
    profile = engine.profiles.get("full")
    version = engine.model_version
    blend = engine.models.blend(version) if version else None
    if blend is not None:  # the profile as the serving version weighs it
        profile = blend.apply(profile)
    names = list(profile.signals)
    declared = np.array([profile.signals[n] for n in names] + [profile.boosts.get(BOOST, 0.0)])
    sets: dict[str, list[Query]] = {"training": [], "validation": [], "unseen 20%": []}
    for qid in sorted(texts):
        gains = {pid: rel - 1 for pid, rel in judged[qid].items()}
        if not any(g > 0 for g in gains.values()):
            continue
        hits = engine.search(texts[qid], size=DEPTH, profile="full").hits
        if not hits:
            continue
        features = np.array([[h.explanation.signals.get(n, 0.0) for n in names]
                             + [1.0 if BOOST in h.explanation.boosts else 0.0] for h in hits])
        ideal = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(gains.values(), reverse=True)[:10]))
        part = "unseen 20%" if qid in held else "validation" if texts[qid] in validation else "training"
        sets[part].append(Query(features, np.array([gains.get(h.product["id"], 0.0) for h in hits]), ideal))
    engine.use_reranker(served)
    engine.close()

    columns = ["declared", *(f"fitted on {fit}" for fit in ("validation", "training", "training + validation"))]
    weights = {"declared": declared}
    for fit, parts in (("validation", ["validation"]), ("training", ["training"]),
                       ("training + validation", ["training", "validation"])):
        weights[f"fitted on {fit}"] = ascent([q for p in parts for q in sets[p]], declared)
        print(fit, dict(zip([*names, BOOST], np.round(weights[f"fitted on {fit}"], 3).tolist(), strict=True)), flush=True)
    scores = {c: {p: round(mean_ndcg(qs, weights[c]), 4) for p, qs in sets.items()} for c in columns}
    ceilings = {depth: {p: round(statistics.fmean(q.ceiling(depth) for q in qs), 4) for p, qs in sets.items()}
                for depth in CEILINGS}
    where = machine()
    result = {"machine": where, "seed": args.seed, "queries": {p: len(qs) for p, qs in sets.items()},
              "model_version": version, "signals": [*names, BOOST],
              "weights": {c: np.round(w, 4).tolist() for c, w in weights.items()}, "ndcg@10": scores,
              "ceiling": ceilings}
    parts = list(sets)
    head = f"| weights | {' | '.join(f'{p} ({len(sets[p])})' for p in parts)} | {' | '.join([*names, BOOST])} |"
    rows = [f"| {c} | {' | '.join(str(scores[c][p]) for p in parts)} | "
            f"{' | '.join(f'{w:.3g}' for w in weights[c])} |" for c in columns]
    ceiling_rows = [f"| the best order of the first {d} | {' | '.join(str(ceilings[d][p]) for p in parts)} |"
                    for d in CEILINGS]
    text = "\n".join([
        "# The first phase's signal weights, fitted: Home Depot", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}. The tuned index's encoder ({version}), "
        "no cross-encoder; nDCG@10 of each query's first 200 hits (the full profile's candidates) re-ordered by "
        "the weights, against the judgments (gain = grade - 1).", "",
        head, "|---|" + "---|" * (len(parts) + len(names) + 1), *rows, "",
        f"| ceiling | {' | '.join(parts)} |", "|---|" + "---|" * len(parts), *ceiling_rows, ""])
    write_results(RESULTS, args.results, result, text)
    print(text)


if __name__ == "__main__":
    main()
