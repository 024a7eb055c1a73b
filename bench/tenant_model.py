"""An index's own encoder on Home Depot (issue 9's protocol): the dev queries split 80/20 by a seeded draw, the
model trained only from the 80% (graded judgments), full-catalog nDCG@10 on the unseen 20% before and after, per
ablation. Training time on this machine is reported; the index is a copy of the eval index (vectors cached).

    python bench/tenant_model.py [--epochs 1] [--learning-rate 1e-4] [--batch-size 64] [--seed 0]
        [--results tenant-model-homedepot]   # unset: the settings' defaults (1e-4, 64)
    # writes bench/results/<results>.{json,md}
    python bench/tenant_model.py --index data/bench/homedepot-gpu --trained DIR --results NAME
    # the same run with the encoder a GPU machine fine-tuned on these very pairs (bench/gpu_training.py)
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from vitrina.cli_train import _write_qrels
from vitrina.config import Settings
from vitrina.engine import open_engine
from vitrina.evaluate.datasets import load_qrels
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.evaluate.runner import EVAL_ROOT, eval_homedepot
from vitrina.learn.tuning.blend import MIN_GAIN, Blend
from vitrina.learn.tuning.finetune import fine_tune
from vitrina.learn.tuning.pairs import pairs_from_qrels, split_queries
from vitrina.learn.tuning.train import train_encoder

RESULTS = Path("bench/results")
MODES = ("bm25", "vector", "rrf", "full")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)  # also the in-batch negatives per query
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--index", type=Path, default=Path("data/bench/homedepot-tuned"))
    parser.add_argument("--results", default="tenant-model-homedepot", help="the results files' name")
    parser.add_argument("--trained", type=Path, default=None,
                        help="what bench/gpu_training.py brought back: its encoder replaces the fine-tune here")
    args = parser.parse_args()
    settings = Settings(domain="generic")
    tune = fine_tune
    if args.trained is not None:
        from gpu_training import trained_elsewhere

        if any(value is not None for value in (args.epochs, args.learning_rate, args.batch_size)):
            raise SystemExit("--trained brings the settings it was trained with: no --epochs, --learning-rate, --batch-size")
        tune, trained_with = trained_elsewhere(args.trained, "encoder")
        settings = settings.model_copy(update={"tuning": trained_with})
    asked = (("epochs", args.epochs), ("learning_rate", args.learning_rate), ("batch_size", args.batch_size))
    chosen = {name: value for name, value in asked if value is not None}
    settings = settings.model_copy(update={"tuning": settings.tuning.model_copy(update=chosen)})
    settings = settings.model_copy(update={"encoder": settings.encoder.model_copy(
        update={"cache_path": EVAL_ROOT / "vectors.sqlite"})})  # the eval index's vectors: nothing encoded twice
    data = settings.datasets_path / "homedepot"
    if not (data / "products.jsonl").exists():
        raise SystemExit(f"{data} is absent: the Home Depot set lives in ../shared/datasets (see its README)")
    qrels = data / "dev-qrels.tsv"
    texts, _ = load_qrels(qrels)
    kept, held = split_queries(list(texts), args.holdout, args.seed)
    held_file = args.index.parent / f"homedepot-holdout-s{args.seed}.tsv"
    _write_qrels(qrels, set(held), held_file)

    shutil.rmtree(args.index, ignore_errors=True)
    engine = open_engine(args.index, settings)
    started = time.perf_counter()
    engine.ingest(data / "products.jsonl", feed="homedepot", fresh=True)
    print(f"indexed {engine.count()} products in {time.perf_counter() - started:.0f} s", flush=True)
    before = eval_homedepot(engine, held_file, data / "products.jsonl", MODES)
    print("before:", {m: r["ndcg@10"] for m, r in before.items()}, flush=True)

    pairs = pairs_from_qrels(qrels, set(kept))
    print(f"training pairs: {pairs.summary()}", flush=True)
    started = time.perf_counter()
    report = train_encoder(engine, pairs, settings.tuning, log=lambda line: print(line, flush=True), tune=tune)
    train_seconds = time.perf_counter() - started
    print(report.reason, flush=True)
    after = eval_homedepot(engine, held_file, data / "products.jsonl", MODES)
    print("after:", {m: r["ndcg@10"] for m, r in after.items()}, flush=True)
    engine.close()

    tune = report.fine_tune
    result = {"machine": machine(), "seed": args.seed, "holdout_queries": len(held), "train_queries": len(kept),
              "pairs": pairs.sources, "settings": settings.tuning.model_dump(), "train": report.model_dump(),
              "train_seconds": round(train_seconds, 1),
              "before": before, "after": after}
    table = ["| mode | nDCG@10 before | after | change | recall@100 before | after |", "|---|---|---|---|---|---|"]
    table += [f"| {m} | {before[m]['ndcg@10']} | {after[m]['ndcg@10']} | "
              f"{(after[m]['ndcg@10'] / before[m]['ndcg@10'] - 1) * 100:+.1f}% | {before[m]['recall@100']} | "
              f"{after[m]['recall@100']} |" for m in MODES]
    text = "\n".join([
        "# An index's own encoder: Home Depot", "",
        f"{result['machine']['cpu']}, {result['machine']['cores']} cores; {result['machine']['when']}.", "",
        f"Dev queries split {1 - args.holdout:.0%}/{args.holdout:.0%} (seed {args.seed}): trained on {len(kept)} "
        f"queries' judgments ({pairs.summary()}), scored on the {len(held)} unseen queries, full catalog.", "",
        f"Fine-tune: {tune.examples if tune else 0} examples, {tune.steps if tune else 0} steps, "
        f"{tune.seconds if tune else 0:.0f} s on {tune.device if tune else '-'} in {tune.precision if tune else '-'}; "
        f"{report.export.precision if report.export else '-'} ONNX; {report.reason}. The whole training run "
        f"(pairs, fine-tune, export, held-out check, re-embedding the catalog, blend): {train_seconds:.0f} s.", "",
        _blend_line(report.blend), "",
        *table, ""])
    write_results(RESULTS, args.results, result, text)


def _blend_line(blend: Blend | None) -> str:
    if blend is None:
        return "No blend fitted."
    tried = "; ".join(f"x{s}/x{v}: {n}" for s, v, n in blend.trials)
    return (f"Blend (fitted on the training run's {blend.queries} validation queries, not the held-out 20%): semantic "
            f"x{blend.semantic}, vector lists x{blend.vectors}; full nDCG@10 there {blend.ndcg_at_1x} at 1x, "
            f"{blend.ndcg} blended (kept only {MIN_GAIN} above 1x). Tried (semantic/vector lists): {tried}.")


if __name__ == "__main__":
    main()
