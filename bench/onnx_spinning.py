"""What onnxruntime's spinning pool threads cost a search that runs two graphs one after the other: the query's
encoding (the text encoder, 2 threads) and then the cross-encoder reading 30 (query, product) pairs in passes of 10
(on 1 or 2 threads), with each session's pool spinning on after a run (onnxruntime's default) or stopping when the
run ends (Vitrina's, onnx_session.py). Also each step alone, and a bulk encoding as an ingest runs it. One process,
the two set-ups in alternating blocks (a block's steps in a rotating order), so one set-up's spinning threads
reach into the other's only at a block's start.

    python bench/onnx_spinning.py [--graph DIR]   # writes bench/results/onnx-spinning.{json,md}

DIR holds a cross-encoder's model.onnx and tokenizer.json (default: the one bench/tenant_reranker.py registered in
data/bench/homedepot-tuned; where that is absent the packaged MiniLM with a fresh one-logit head, exported here:
its weights do not change its speed).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cross_encoder_speed import homedepot_titles, search_ms  # a sibling script: bench/ is on the path when run

from vitrina.config import Settings
from vitrina.embed.encoder import OnnxMiniLMEncoder
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.rank.cross_encoder import CHUNK, OnnxCrossEncoder

RESULTS = Path("bench/results")
DEPTH = 30
SEARCHES = 60
ROUNDS = 3
BULK = 512  # product titles a bulk encoding reads
SPINNING, STOPPING = "spinning on", "stopping"
QUERIES = ("cordless drill", "white vinyl fence panel", "led flush mount ceiling light", "3/4 in. plywood",
           "elongated toilet seat", "outdoor wall lantern", "garden hose reel", "interior door knob")


def serving_graph(index: Path) -> Path | None:
    pointer = index / "models" / "RERANKER"
    return index / "models" / pointer.read_text().strip() if pointer.exists() else None


def fresh_graph(folder: Path, length: int) -> Path:
    from sentence_transformers.cross_encoder import CrossEncoder

    from vitrina.learn.tuning.crossencoder import export_cross_encoder
    from vitrina.learn.tuning.train import default_base

    CrossEncoder(default_base(), num_labels=1, max_length=length, device="cpu").save_pretrained(str(folder / "m"))
    export_cross_encoder(folder / "m", folder / "onnx", [(QUERIES[0], "a product")], length)
    (folder / "onnx" / "model.int8.onnx").replace(folder / "onnx" / "model.onnx")  # what serves where int8 passes
    return folder / "onnx"


def measure(graph: Path, titles: list[str], settings: Settings) -> dict[str, list[float]]:
    length = settings.tuning.max_seq_length
    setups: dict[str, tuple[OnnxMiniLMEncoder, dict[int, OnnxCrossEncoder]]] = {}
    for spin in (True, False):
        encoder = OnnxMiniLMEncoder(settings.encoder, spin_after_run=spin)
        encoder.encode(["warm"])
        readers = {threads: OnnxCrossEncoder(graph / "model.onnx", graph / "tokenizer.json", threads, length, spin)
                   for threads in (1, 2)}
        for reader in readers.values():
            reader.warm()
        setups[SPINNING if spin else STOPPING] = (encoder, readers)
    rng = random.Random(0)
    searches = [[(QUERIES[n % len(QUERIES)], t) for t in rng.sample(titles, DEPTH)] for n in range(SEARCHES)]
    bulk = titles[:BULK]

    steps: dict[str, dict[str, Callable[[list[tuple[str, str]]], object]]] = {}
    for name, (encoder, readers) in setups.items():
        steps[name] = {"query encoding alone": lambda pairs, e=encoder: e.encode([pairs[0][0]])}
        for threads, reader in readers.items():
            steps[name][f"30 pairs on {threads} thread(s) alone"] = lambda pairs, r=reader: search_ms(r, pairs)
            steps[name][f"query encoding, then 30 pairs on {threads} thread(s)"] = (
                lambda pairs, e=encoder, r=reader: (e.encode([pairs[0][0]]), search_ms(r, pairs)))
        steps[name][f"{BULK} titles encoded in bulk"] = lambda _, e=encoder: e.encode(bulk)
    times: dict[str, list[float]] = {f"{setup}: {step}": [] for setup in steps for step in steps[setup]}
    for round_ in range(ROUNDS):
        for setup in (list(steps) if round_ % 2 == 0 else list(steps)[::-1]):
            names = list(steps[setup])
            for number, pairs in enumerate(searches):
                turn = (number + round_) % len(names)
                for step in names[turn:] + names[:turn]:
                    if step.endswith("in bulk") and number % 10:
                        continue  # a bulk encoding takes seconds: every tenth search
                    started = time.perf_counter()
                    steps[setup][step](pairs)
                    times[f"{setup}: {step}"].append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--graph", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings(domain="generic")
    titles = homedepot_titles(settings)
    with tempfile.TemporaryDirectory() as work:
        graph = args.graph or serving_graph(Path("data/bench/homedepot-tuned"))
        source = f"the cross-encoder {graph}" if graph else "the packaged MiniLM with a fresh head"
        times = measure(graph or fresh_graph(Path(work), settings.tuning.max_seq_length), titles, settings)
    p50 = {name: round(statistics.median(t), 1) for name, t in times.items()}
    where = machine()
    result = {"machine": where, "searches": SEARCHES, "rounds": ROUNDS, "depth": DEPTH, "pass": CHUNK,
              "encoder_threads": settings.encoder.threads, "graph": source, "p50_ms": p50}
    steps = list(dict.fromkeys(name.split(": ", 1)[1] for name in p50))
    text = "\n".join([
        "# onnxruntime's pool threads after a run: spinning on (its default) against stopping (Vitrina's)", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}. {SEARCHES} searches x {ROUNDS} rounds, each a "
        f"Home Depot query encoded on {settings.encoder.threads} threads and/or {DEPTH} titles read with it by "
        f"{source} in passes of {CHUNK}, int8; one process, the two set-ups in alternating blocks.", "",
        f"| step | p50 ms, {SPINNING} | p50 ms, {STOPPING} | {STOPPING} / {SPINNING} |", "|---|---|---|---|",
        *[f"| {step} | {p50[f'{SPINNING}: {step}']} | {p50[f'{STOPPING}: {step}']} | "
          f"{p50[f'{STOPPING}: {step}'] / p50[f'{SPINNING}: {step}']:.2f} |" for step in steps], ""])
    write_results(RESULTS, "onnx-spinning", result, text)
    print(text)


if __name__ == "__main__":
    main()
