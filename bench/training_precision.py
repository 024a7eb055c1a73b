"""Training speed by precision, in one process: the bi-encoder fine-tune and the cross-encoder, each run in fp32 and
in bf16 (learn/tuning/hardware.py) on the same slice of Home Depot judgments (product titles), alternated for a few
rounds; seconds per step, medians, and the ratio. Each also runs as it did before its texts were encoded by length
(learn/tuning/loss.py): every column padded to its longest, the baseline of those ratios; and as it did before its
dropout masks were drawn by numpy (learn/tuning/dropout.py). The cross-encoder also runs with its batches drawn at
random, as before they were drawn from pairs of about the same length (learn/tuning/batches.py): such batches
differ in length, and a run reads the first of an epoch's, a random share of them. The full runs'
times (bench/tenant_model.py) vary with the load of this shared machine from one run to the next; these ratios
vary less, but they vary too (the same two cross-encoder runs: 1.48x in -length-batches, 1.14x in -lookup).

    python bench/training_precision.py [--steps 30] [--rounds 2] [--results training-precision] [--runs 3 4]
    python bench/training_precision.py --steps 20 --results training-speed-amd-epyc-dropout
    python bench/training_precision.py --steps 20 --rounds 3 --runs 3 4 --results training-speed-amd-epyc-length-batches
    # training-speed-amd-epyc-lookup: runs 3 5 4 6 of this bench at 636d4b3 (the words looked up once a batch, not kept)
    # bench/results/<results>.{json,md}
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
from vitrina.learn.tuning.finetune import MIN_STEPS, fine_tune
from vitrina.learn.tuning.hardware import cpu_bf16_units
from vitrina.learn.tuning.pairs import PairSet, pairs_from_qrels
from vitrina.learn.tuning.train import default_base

RESULTS = Path("bench/results")
# (precision, texts by length, who draws the dropout masks, the cross-encoder's batches by length)
RUNS = [("fp32", False, "torch", False), ("fp32", True, "torch", False), ("bf16", True, "torch", False),
        ("bf16", True, "numpy", False), ("bf16", True, "numpy", True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--results", default="training-precision", help="the results files' name")
    parser.add_argument("--runs", type=int, nargs="+", default=None, help="only these of RUNS (0-based)")
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
    # enough pairs that the encoder's batch keeps its size (finetune.batch_for), a share of an epoch for the steps
    pairs = PairSet(pairs=every.pairs[:settings.batch_size * MIN_STEPS], queries=every.queries)
    share = args.steps / MIN_STEPS
    base = default_base()
    runs = [RUNS[i] for i in args.runs] if args.runs else RUNS
    per_step: dict[str, dict[str, list[float]]] = {kind: {_label(*run): [] for run in runs if kind == "cross" or
                                                          not run[3]} for kind in ("bi", "cross")}
    for round_ in range(args.rounds):
        for run in runs:
            precision, by_length, sampler, length_batches = run
            chosen = settings.model_copy(update={"precision": precision, "encode_by_length": by_length,
                                                 "dropout_sampler": sampler, "epochs": share,
                                                 "rerank_epochs": share, "rerank_batches_by_length": length_batches})
            with tempfile.TemporaryDirectory() as folder:
                reports = {"cross": train_cross_encoder(base, pairs, titles.get, {}, Path(folder) / "cross", chosen)}
                if not length_batches:  # the encoder's batches are never drawn by length
                    reports["bi"] = fine_tune(base, pairs, titles.get, Path(folder), chosen)
            for kind, report in reports.items():
                per_step[kind][_label(*run)].append(report.seconds / report.steps)
                print(f"round {round_ + 1} {kind} {_label(*run)}: {report.seconds / report.steps:.3f} s/step", flush=True)
    medians = {kind: {label: round(statistics.median(v), 3) for label, v in times.items()}
               for kind, times in per_step.items()}
    result = {"machine": machine(), "bf16_units": cpu_bf16_units(), "steps": args.steps, "rounds": args.rounds,
              "batch_size": settings.batch_size, "max_seq_length": settings.max_seq_length,
              "seconds_per_step": per_step, "medians": medians}
    where = result["machine"]
    table = ["| model | run | s/step | against the first |", "|---|---|---|---|"]
    for kind, name in (("bi", "bi-encoder (triplets and pairs, MNRL)"), ("cross", "cross-encoder (BCE)")):
        if not medians[kind]:
            continue
        first = next(iter(medians[kind].values()))
        table += [f"| {name} | {label} | {value} | {first / value:.2f}x |" for label, value in medians[kind].items()]
    text = "\n".join([
        "# Training speed by precision", "",
        f"{where['cpu']}, {where['cores']} cores, bf16 in hardware: {result['bf16_units'] or 'no'}; {where['when']}.", "",
        f"Home Depot judgments, product titles, batch {settings.batch_size}, {args.steps} steps a run, the runs "
        f"alternated for {args.rounds} rounds in one process (medians):", "", *table, ""])
    write_results(RESULTS, args.results, result, text)
    print(text)


def _label(precision: str, by_length: bool, sampler: str, length_batches: bool) -> str:
    batches = ", batches by length" if length_batches else ""
    return f"{precision}, {'by length' if by_length else 'padded'}, dropout by {sampler}{batches}"


if __name__ == "__main__":
    main()
