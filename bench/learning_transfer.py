"""How much of what shoppers taught the learner can reach queries nobody searched (the held-out fifth).

Reads a finished Home Depot simulation (its event database, with the served model in it), and for the held-out
queries it scored:
  - coverage: of the judged-relevant products the static ranking places 11th to 100th (the ones learning would
    have to lift), how many carry positive evidence from other searches (a shared query word, or the product
    overall); and how many shown irrelevant ones carry negative evidence;
  - a sweep: held-out nDCG@10 with one carry-over weight at a time, at several strengths, against static.
Writes bench/results/learning-transfer.{json,md}.

    python bench/learning_transfer.py [SEED]    # after `vitrina simulate --dataset homedepot --seed SEED`
"""

from __future__ import annotations

import logging
import statistics
import sys
from pathlib import Path

import numpy as np

from vitrina.config import Settings
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import eval_engine
from vitrina.evaluate.shoppers import QueryTraffic, Traffic
from vitrina.evaluate.simulate import judged_homedepot
from vitrina.events.db import connect
from vitrina.learn.features import FEATURES
from vitrina.learn.window import query_key, query_terms
from vitrina.learn.worker import Learners

RESULTS = Path("bench/results")
HELD = 500
SWEEP = {"words": [0.5, 1.0, 2.0, 4.0], "product": [0.5, 1.0, 2.0, 4.0],
         "signal:semantic": [-1.0, -0.5, 0.5, 1.0], "signal:lexical": [-1.0, -0.5, 0.5, 1.0]}


def main(seed: int = 0) -> dict:
    settings = Settings()
    shared = settings.datasets_path
    database = Path(f"data/simulate/simulate-homedepot-conversion-s{seed}.db")
    if not database.exists() or not (shared / "homedepot").exists():
        sys.exit(f"needs {database} (vitrina simulate --dataset homedepot --seed {seed}) and {shared}/homedepot")
    learners = Learners(connect(f"sqlite:///{database}"), settings.learning, logging.getLogger("vitrina.learn"))
    learner = learners.get("simulated")
    model = learner.model
    if model is None:
        sys.exit(f"{database} holds no served model")
    engine = eval_engine("homedepot", shared / "homedepot" / "products.jsonl", "homedepot",
                         settings.model_copy(update={"domain": "generic", "response_cache_size": 0}), None,
                         learners.phases("simulated"))
    judged = judged_homedepot(shared / "homedepot" / "dev-qrels.tsv")
    held = QueryTraffic(sorted(judged.texts), Traffic(), seed).heldout[:HELD]

    def ranked(qid: str, profile: str, size: int = 10) -> list[str]:
        return [str(h.product["id"]) for h in engine.search(judged.texts[qid], size=size, profile=profile).hits]

    coverage = {"relevant_11_to_100": 0, "with_positive_word_evidence": 0, "with_positive_product_evidence": 0,
                "irrelevant_top_10": 0, "with_negative_word_evidence": 0}
    evidence = model.evidence
    for qid in held:
        key = query_key(judged.texts[qid])
        terms, grades = query_terms(key), judged.grades.get(qid, {})
        for rank, pid in enumerate(ranked(qid, "full", 100), start=1):
            _, words, product = evidence.features(key, terms, pid)
            if grades.get(pid, 0) > 0 and rank > 10:
                coverage["relevant_11_to_100"] += 1
                coverage["with_positive_word_evidence"] += words > 0
                coverage["with_positive_product_evidence"] += product > 0
            elif grades.get(pid, 0) == 0 and rank <= 10:
                coverage["irrelevant_top_10"] += 1
                coverage["with_negative_word_evidence"] += words < 0

    def held_ndcg(profile: str) -> float:
        return round(statistics.fmean(ndcg_at_k(ranked(q, profile), judged.grades.get(q, {}), 10) for q in held), 4)

    static = held_ndcg("full")
    served = held_ndcg("learned")
    sweep: dict[str, dict[str, float]] = {}
    for feature, strengths in SWEEP.items():
        for strength in strengths:
            weights = np.zeros(len(FEATURES))
            weights[FEATURES.index(feature)] = strength
            model.weights = weights  # this process only: the stored model is untouched
            sweep.setdefault(feature, {})[str(strength)] = round(held_ndcg("learned") / static - 1, 4)
    result = {"seed": seed, "heldout_queries": len(held), "static_ndcg": static, "served_ndcg": served,
              "served_gain": round(served / static - 1, 4), "served_weights": model.info.weights,
              "coverage": coverage, "sweep_gain_over_static": sweep}
    write_results(RESULTS, "learning-transfer", result, markdown(result))
    print(markdown(result))
    return result


def markdown(r: dict) -> str:
    c = r["coverage"]
    rows = "\n".join(f"| {feature} | " + " | ".join(f"{s}: {g:+.1%}" for s, g in gains.items()) + " |"
                     for feature, gains in r["sweep_gain_over_static"].items())
    return (f"# What reaches queries nobody searched (Home Depot dev, seed {r['seed']}, {r['heldout_queries']} "
            "held-out queries)\n\n"
            f"Static nDCG@10 {r['static_ndcg']}; the served model {r['served_ndcg']} ({r['served_gain']:+.1%}).\n\n"
            f"Of {c['relevant_11_to_100']} judged-relevant products the static ranking places 11th to 100th, "
            f"{c['with_positive_word_evidence']} carry positive evidence from other searches sharing a query word and "
            f"{c['with_positive_product_evidence']} from other searches overall; of {c['irrelevant_top_10']} "
            f"irrelevant products in the static top 10, {c['with_negative_word_evidence']} carry negative word "
            "evidence (shown for other queries and passed over, which says little about this one).\n\n"
            "Held-out gain with one carry-over weight alone, by strength:\n\n"
            "| feature | gains |\n|---|---|\n" + rows + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
