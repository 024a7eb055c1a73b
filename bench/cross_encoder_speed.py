"""How fast the cross-encoder phase's graph reads (query, product) pairs on one thread: fp32 against the int8 copy
that training exports beside it, of all six layers of the packaged MiniLM and of its first three
(settings.tuning.rerank_layers; learn/tuning/crossencoder.py). Graphs with a fresh one-logit head (weights' values
do not change the speed), 30 Home Depot titles per search read in passes of 10 as the phase does, the graphs in a
rotating order in one process. Which graph serves is the held-out check's call (INT8_RERANKER_LOSS in
learn/tuning/train.py), not this bench's.

    python bench/cross_encoder_speed.py     # writes bench/results/cross-encoder-speed.{json,md}
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from vitrina.config import Settings
from vitrina.evaluate.machine import machine
from vitrina.evaluate.results import write_results
from vitrina.learn.tuning.crossencoder import export_cross_encoder, keep_layers
from vitrina.learn.tuning.train import default_base
from vitrina.rank.cross_encoder import CHUNK, OnnxCrossEncoder

RESULTS = Path("bench/results")
DEPTH = 30  # the phase's default depth (settings.tuning.rerank_depth)
SEARCHES = 60
LAYERS = (6, 3)
QUERIES = ("cordless drill", "white vinyl fence panel", "led flush mount ceiling light", "3/4 in. plywood",
           "elongated toilet seat", "outdoor wall lantern", "garden hose reel", "interior door knob")


def homedepot_titles(settings: Settings, count: int = 5000) -> list[str]:
    """The first `count` Home Depot product titles (exits with a message where the set is absent)."""
    products = settings.datasets_path / "homedepot" / "products.jsonl"
    if not products.exists():
        raise SystemExit(f"{products} is absent: the Home Depot set lives in ../shared/datasets (see its README)")
    with open(products) as feed:
        return [json.loads(line)["title"] for line, _ in zip(feed, range(count), strict=False)]


def search_ms(model: OnnxCrossEncoder, pairs: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for start in range(0, len(pairs), CHUNK):
        model.logits(pairs[start:start + CHUNK])
    return (time.perf_counter() - started) * 1000


def main() -> None:
    from sentence_transformers.cross_encoder import CrossEncoder

    settings = Settings(domain="generic")
    titles = homedepot_titles(settings)
    length = settings.tuning.max_seq_length
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        graphs: dict[str, OnnxCrossEncoder] = {}
        for layers in LAYERS:
            model = CrossEncoder(default_base(), num_labels=1, max_length=length, device="cpu")
            keep_layers(model.model, layers)
            model.save_pretrained(str(folder / f"m{layers}"))
            export_cross_encoder(folder / f"m{layers}", folder / f"onnx{layers}", [(QUERIES[0], titles[0])], length)
            graphs.update({f"{layers} layers, {name}": OnnxCrossEncoder(
                folder / f"onnx{layers}" / f"model{suffix}.onnx", folder / f"onnx{layers}" / "tokenizer.json",
                threads=settings.search_threads, max_length=length) for name, suffix in (("fp32", ""), ("int8", ".int8"))})
        rng = random.Random(0)
        names = list(graphs)
        times: dict[str, list[float]] = {name: [] for name in graphs}
        for graph in graphs.values():
            graph.warm()
        for search in range(SEARCHES):
            pairs = [(QUERIES[search % len(QUERIES)], t) for t in rng.sample(titles, DEPTH)]
            for name in names[search % len(names):] + names[:search % len(names)]:  # rotated: drift hits all
                times[name].append(search_ms(graphs[name], pairs))
        mb = {name: round(g.onnx_path.stat().st_size / 2**20, 1) for name, g in graphs.items()}
    p50 = {name: round(statistics.median(t), 1) for name, t in times.items()}
    base = names[0]
    where = machine()
    result = {"machine": where, "searches": SEARCHES, "depth": DEPTH, "pass": CHUNK, "threads": settings.search_threads,
              "max_length": length, "p50_ms": p50, "speedup": {n: round(p50[base] / p50[n], 2) for n in names},
              "onnx_mb": mb}
    text = "\n".join([
        "# The cross-encoder's graph: fp32 against int8, six layers against three", "",
        f"{where['cpu']}, {where['cores']} cores; {where['when']}. {SEARCHES} searches of {DEPTH} Home Depot "
        f"titles each, read in passes of {CHUNK} on {settings.search_threads} thread(s), up to {length} tokens, "
        "the graphs in a rotating order in one process; int8 with a weight scale per output channel.", "",
        f"| graph | p50 ms for all 30 | ms a pair | as fast as {base} | size MB |", "|---|---|---|---|---|",
        *[f"| {name} | {p50[name]} | {p50[name] / DEPTH:.2f} | {result['speedup'][name]}x | {mb[name]} |"
          for name in names], ""])
    write_results(RESULTS, "cross-encoder-speed", result, text)
    print(text)


if __name__ == "__main__":
    main()
