"""Training speed by precision, in one process: the bi-encoder fine-tune and the cross-encoder, each run in fp32 and
in bf16 (learn/tuning/hardware.py) on the same slice of Home Depot judgments (product titles), alternated for a few
rounds; seconds per step, medians, and the ratio. The full runs' times (bench/tenant_model.py) vary with the load
of this shared machine from one run to the next; this ratio does not.

    python bench/training_precision.py [--steps 30] [--rounds 2]   # bench/results/training-precision.{json,md}
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from vitrina.config import Settings, TuningSettings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.learn.tuning.crossencoder import train_cross_encoder
from vitrina.learn.tuning.finetune import fine_tune
from vitrina.learn.tuning.hardware import cpu_has_amx
from vitrina.learn.tuning.pairs import PairSet, pairs_from_qrels
from vitrina.learn.tuning.train import default_base

RESULTS = Path("bench/results")
PRECISIONS = ("fp32", "bf16")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    data = Settings().datasets_path / "homedepot"
    if not (data / "products.jsonl").exists():
        raise SystemExit(f"{data} is absent: the Home Depot set lives in ../shared/datasets (see its README)")
    titles = {}
    with open(data / "products.jsonl") as rows:
        for line in rows:
            row = json.loads(line)
            titles[str(row["product_uid"])] = row["title"]
    every = pairs_from_qrels(data / "dev-qrels.tsv")
    settings = TuningSettings(max_repeats=1)
    pairs = PairSet(pairs=every.pairs[:settings.batch_size * args.steps], queries=every.queries)
    base = default_base()
    per_step: dict[str, dict[str, list[float]]] = {kind: {p: [] for p in PRECISIONS} for kind in ("bi", "cross")}
    for round_ in range(args.rounds):
        for precision in PRECISIONS:
            chosen = settings.model_copy(update={"precision": precision})
            with tempfile.TemporaryDirectory() as folder:
                tuned = fine_tune(base, pairs, titles.get, Path(folder), chosen)
                crossed = train_cross_encoder(base, pairs, titles.get, {}, Path(folder) / "cross", chosen)
            per_step["bi"][precision].append(tuned.seconds / tuned.steps)
            per_step["cross"][precision].append(crossed.seconds / crossed.steps)
            print(f"round {round_ + 1} {precision}: bi-encoder {tuned.seconds / tuned.steps:.3f} s/step, "
                  f"cross-encoder {crossed.seconds / crossed.steps:.3f} s/step", flush=True)
    medians = {kind: {p: round(statistics.median(v), 3) for p, v in times.items()} for kind, times in per_step.items()}
    result = {"machine": machine(), "amx": cpu_has_amx(), "steps": args.steps, "rounds": args.rounds,
              "batch_size": settings.batch_size, "max_seq_length": settings.max_seq_length,
              "seconds_per_step": per_step, "medians": medians}
    where = result["machine"]
    table = ["| model | fp32 s/step | bf16 s/step | fp32 / bf16 |", "|---|---|---|---|"]
    table += [f"| {name} | {medians[kind]['fp32']} | {medians[kind]['bf16']} | "
              f"{medians[kind]['fp32'] / medians[kind]['bf16']:.2f}x |"
              for kind, name in (("bi", "bi-encoder (triplets and pairs, MNRL)"), ("cross", "cross-encoder (BCE)"))]
    text = "\n".join([
        "# Training speed by precision", "",
        f"{where['cpu']}, {where['cores']} cores, AMX tiles: {result['amx']}; {where['when']}.", "",
        f"Home Depot judgments, product titles, batch {settings.batch_size}, {args.steps} steps a run, fp32 and bf16 "
        f"alternated for {args.rounds} rounds in one process (medians):", "", *table, ""])
    write_results(RESULTS, "training-precision", result, text)
    print(text)


if __name__ == "__main__":
    main()
