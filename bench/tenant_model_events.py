"""An index's own encoder trained from simulated shoppers' events, not from judgments (issue 9's second source).

Shoppers search the index through the service's parts (the search log, the event store; evaluate/simulate.py),
click, cart and buy by the set's grades; `vitrina train --tenant`'s path then turns their log into pairs
(purchase > cart > click, skipped hits above a click as negatives) and trains, checks and publishes as always.

- homedepot: shoppers search only the 80% of the dev queries a seeded split keeps; the unseen 20% are scored
  before and after, full catalog (the same split as bench/tenant_model.py, which trains from their judgments).
- fashion: shoppers search queries written from the catalog (evaluate/shop_queries.py), none equal to a dev or
  vague query; the whole fashion dev set and the vague set are scored before and after (issue 9: no regression
  with the tenant model in place).

    python bench/tenant_model_events.py --dataset homedepot --searches 40000 --learning-rate 1e-4 \
        --min-improvement -1 --name tenant-model-events-homedepot-40k-published
    python bench/tenant_model_events.py --dataset fashion --searches 10000 --learning-rate 1e-4
    # writes bench/results/tenant-model-events-<dataset>.{json,md} (or --name)
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from pathlib import Path

from vitrina.cli_train import _write_qrels
from vitrina.config import Settings
from vitrina.engine import Engine, open_engine
from vitrina.evaluate.datasets import load_judge, load_qrels
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import EVAL_ROOT, eval_fashion, eval_homedepot
from vitrina.evaluate.shop_queries import fashion_shop_queries
from vitrina.evaluate.shoppers import Traffic
from vitrina.evaluate.simulate import Judged, Simulation, judged_fashion, judged_homedepot
from vitrina.events.db import connect
from vitrina.learn.objective import Objective
from vitrina.learn.tuning.pairs import pairs_from_window, split_queries
from vitrina.learn.tuning.train import train_encoder
from vitrina.learn.window import load_window
from vitrina.learn.worker import Learners

RESULTS = Path("bench/results")
WORK = Path("data/bench")
TENANT = "shop"
MODES = ("bm25", "vector", "rrf", "full")


class Scored:
    """What is scored before and after training, for one dataset."""

    def __init__(self, settings: Settings, dataset: str, seed: int, holdout: float, shop_queries: int):
        self.dataset = dataset
        data = settings.datasets_path
        if dataset == "homedepot":
            self.feed_file, self.feed, self.currency = data / "homedepot" / "products.jsonl", "homedepot", "USD"
            qrels = data / "homedepot" / "dev-qrels.tsv"
            if not self.feed_file.exists():
                raise SystemExit(f"{self.feed_file} is absent: the Home Depot set lives in ../shared/datasets")
            texts, _ = load_qrels(qrels)
            kept, held = split_queries(list(texts), holdout, seed)
            self.held_file = WORK / f"homedepot-holdout-s{seed}.tsv"
            _write_qrels(qrels, set(held), self.held_file)
            judged = judged_homedepot(qrels)
            keep = set(kept)
            self.traffic = Judged(texts={q: t for q, t in judged.texts.items() if q in keep},
                                  grades={q: g for q, g in judged.grades.items() if q in keep},
                                  top_grade=judged.top_grade)
            self.about = (f"shoppers searched only the {len(kept)} queries of the seeded {1 - holdout:.0%} (seed "
                          f"{seed}); scored on the {len(held)} unseen queries, full catalog")
        else:
            self.feed_file, self.feed, self.currency = data / "fashion" / "catalog.jsonl.gz", "myntra", "INR"
            self.dev = data / "fashion-queries" / "dev.jsonl"
            self.vague = Path("bench/queries/fashion-vague.jsonl")
            if not self.feed_file.exists() or not self.dev.exists():
                raise SystemExit(f"{self.feed_file} or {self.dev} is absent: the fashion sets live in ../shared")
            judge = load_judge(self.dev.parent / "judge.py")
            asked = [turn for path in (self.dev, self.vague) for spec in judge.load_jsonl(path)
                     for turn in spec["turns"]]
            specs = fashion_shop_queries(judge.load_jsonl(self.feed_file), shop_queries, seed, exclude=asked)
            queries = WORK / f"fashion-shop-queries-s{seed}.jsonl"
            queries.parent.mkdir(parents=True, exist_ok=True)
            queries.write_text("".join(json.dumps(s) + "\n" for s in specs))
            self.traffic = judged_fashion(queries, self.feed_file, self.dev.parent / "judge.py")
            self.about = (f"shoppers searched {len(specs)} queries written from the catalog (seed {seed}; none equal "
                          f"to a dev or vague query's turn); scored on the whole fashion dev set and the vague set")

    def score(self, engine: Engine) -> dict:
        if self.dataset == "homedepot":
            return {"heldout": eval_homedepot(engine, self.held_file, self.feed_file, MODES)}
        judge = self.dev.parent / "judge.py"
        return {"dev": eval_fashion(engine, self.feed_file, self.dev, MODES, judge_path=judge),
                "vague": eval_fashion(engine, self.feed_file, self.vague, MODES, judge_path=judge)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", choices=("homedepot", "fashion"), required=True)
    parser.add_argument("--searches", type=int, default=10_000)
    parser.add_argument("--shop-queries", type=int, default=800, help="fashion: queries written from the catalog")
    parser.add_argument("--learning-rate", type=float, default=None)  # the committed runs: 1e-4
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--min-improvement", type=float, default=None,
                        help="-1 publishes whatever the held-out check says, to score a model the check refused")
    parser.add_argument("--name", default=None, help="results file name (default: tenant-model-events-<dataset>)")
    args = parser.parse_args()
    settings = Settings(domain="generic") if args.dataset == "homedepot" else Settings()
    chosen = {k: v for k, v in (("learning_rate", args.learning_rate), ("min_improvement", args.min_improvement))
              if v is not None}
    settings = settings.model_copy(update={"tuning": settings.tuning.model_copy(update=chosen)})
    settings = settings.model_copy(update={"encoder": settings.encoder.model_copy(
        update={"cache_path": EVAL_ROOT / "vectors.sqlite"})})  # the eval indexes' vectors: nothing encoded twice
    scored = Scored(settings, args.dataset, args.seed, args.holdout, args.shop_queries)

    index = WORK / f"{args.dataset}-events-tuned"
    shutil.rmtree(index, ignore_errors=True)
    engine = open_engine(index, settings)
    engine.ingest(scored.feed_file, feed=scored.feed, fresh=True)
    print(f"indexed {engine.count()} products", flush=True)
    before = scored.score(engine)
    print("before:", _headline(before), flush=True)

    database = WORK / f"{args.dataset}-events.db"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)
    db = connect(f"sqlite:///{database}")
    learners = Learners(db, settings.learning, logging.getLogger("vitrina.learn"))
    learner = learners.get(TENANT)
    learner.set_objective(Objective.named("conversion"))
    # The shop serves its static ranking while events gather: the encoder is what this run trains.
    simulation = Simulation(engine, db, learner, scored.traffic, args.dataset, args.seed,
                            traffic=Traffic(heldout_share=0.0), currency=scored.currency, learned_profile="full")
    started = time.perf_counter()
    shopped = simulation.run(args.searches, checkpoint=args.searches, update_every=10**12, heldout_sample=None)
    simulate_seconds = time.perf_counter() - started
    print(f"{args.searches} simulated searches in {simulate_seconds:.0f} s: ctr {shopped.ctr}, conversion "
          f"{shopped.conversion}, {shopped.queries_with_traffic} queries searched", flush=True)

    window = load_window(db, TENANT, settings.learning.window_searches,
                         settings.learning.max_clicks_per_shopper_product)
    pairs = pairs_from_window(window, learner.objective)
    print(f"training pairs: {pairs.summary()}", flush=True)
    started = time.perf_counter()
    report = train_encoder(engine, pairs, settings.tuning, log=lambda line: print(line, flush=True))
    train_seconds = time.perf_counter() - started
    print(report.reason, flush=True)
    after = scored.score(engine)
    print("after:", _headline(after), flush=True)
    engine.close()
    db.dispose()

    result = {"machine": machine(), "dataset": args.dataset, "seed": args.seed, "about": scored.about,
              "searches": args.searches, "simulate_seconds": round(simulate_seconds, 1),
              "shoppers": {"ctr": shopped.ctr, "conversion": shopped.conversion,
                           "queries_searched": shopped.queries_with_traffic},
              "pairs": pairs.sources, "pair_queries": pairs.queries, "pairs_left_out": pairs.left_out,
              "settings": settings.tuning.model_dump(), "train": report.model_dump(),
              "train_seconds": round(train_seconds, 1), "before": before, "after": after}
    write_results(RESULTS, args.name or f"tenant-model-events-{args.dataset}", result, _markdown(result, pairs.summary()))


def _headline(scores: dict) -> dict:
    return {part: {mode: figures["ndcg@10"] for mode, figures in by_mode.items()} for part, by_mode in scores.items()}


def _markdown(result: dict, pairs: str) -> str:
    train, lines = result["train"], []
    tune = train.get("fine_tune") or {}
    lines += [f"# An index's own encoder from simulated shoppers' events: {result['dataset']}", "",
              f"{result['machine']['cpu']}, {result['machine']['cores']} cores; {result['machine']['when']}.", "",
              f"{result['searches']} simulated searches ({result['simulate_seconds']:.0f} s; CTR "
              f"{result['shoppers']['ctr']}, conversion {result['shoppers']['conversion']}, "
              f"{result['shoppers']['queries_searched']} queries searched): {result['about']}.", "",
              f"Training pairs from the search log: {pairs}. Fine-tune: {tune.get('examples', 0)} examples, "
              f"{tune.get('steps', 0)} steps, {tune.get('seconds', 0):.0f} s on {tune.get('device', '-')} in "
              f"{tune.get('precision', '-')}; {train['reason']}. The whole training run: "
              f"{result['train_seconds']:.0f} s.", ""]
    for part, by_mode in result["before"].items():
        lines += [f"## {part}", "", "| mode | nDCG@10 before | after | change |", "|---|---|---|---|"]
        for mode in MODES:
            b, a = by_mode[mode]["ndcg@10"], result["after"][part][mode]["ndcg@10"]
            lines.append(f"| {mode} | {b} | {a} | {(a / b - 1) * 100 if b else 0.0:+.1f}% |")
        cats = by_mode["full"].get("per_category")
        if cats:
            lines += ["", "full, per category:", "", "| category | n | before | after |", "|---|---|---|---|"]
            lines += [f"| {c} | {f['n']} | {f['ndcg@10']} | {result['after'][part]['full']['per_category'][c]['ndcg@10']} |"
                      for c, f in cats.items()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
