"""Embedding throughput with sentence-transformers on a GPU (when torch sees one) against its CPU, same model.

    python bench/gpu_encode.py export --out DIR       # here: the 44k fashion products' embedding texts, as Vitrina
                                                       # builds them, plus 500 of their cached ONNX vectors
    python bench/gpu_encode.py run --texts DIR --model MODEL_DIR --out DIR   # where the GPU is

`run` encodes every text through Vitrina's SentenceTransformerEncoder (device "auto"), at several batch sizes,
then a slice on the CPU for scale, and compares the GPU vectors with the CPU path's cached int8 ONNX vectors
(cosine), so a catalog encoded on a GPU can sit in the same index. Writes gpu-encode.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def export(out: Path, datasets: Path, vector_cache: Path) -> None:
    from vitrina.catalog.embedding_text import embedding_text
    from vitrina.config import EncoderSettings
    from vitrina.embed.cache import VectorCache, text_key
    from vitrina.embed.registry import make_encoder
    from vitrina.evaluate.bench import real_products

    texts = [embedding_text(p) for p in real_products(datasets / "fashion" / "catalog.jsonl.gz", "myntra")]
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(out / "texts.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(t) + "\n" for t in texts)
    sample = texts[::max(1, len(texts) // 500)][:500]
    model_id = make_encoder(EncoderSettings()).model_id
    cache = VectorCache(vector_cache)
    found = cache.get_many(model_id, [text_key(t) for t in sample])
    kept = [t for t in sample if text_key(t) in found]
    np.save(out / "onnx-sample.npy", np.stack([found[text_key(t)] for t in kept]))
    (out / "onnx-sample.json").write_text(json.dumps({"model_id": model_id, "texts": kept}))
    print(f"{len(texts)} texts, {len(kept)} reference vectors -> {out}")


def run(texts_dir: Path, model: Path, out: Path) -> None:
    import torch

    from vitrina.config import EncoderSettings
    from vitrina.embed.encoder import SentenceTransformerEncoder

    with gzip.open(texts_dir / "texts.jsonl.gz", "rt", encoding="utf-8") as handle:
        texts = [json.loads(line) for line in handle]
    result: dict = {"texts": len(texts), "torch": torch.__version__, "model": "all-MiniLM-L6-v2 (fp16 weights)",
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                    "cpu_threads": torch.get_num_threads(), "gpu_runs": {}}
    for batch in (128, 512, 2048):
        encoder = SentenceTransformerEncoder(EncoderSettings(backend="sentence-transformers", model=str(model),
                                                             device="auto", batch_size=batch))
        encoder.encode(texts[:2048])  # warm-up: kernels, allocator
        if encoder.device.startswith("cuda"):
            torch.cuda.synchronize()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            encoder.encode(texts)
            times.append(time.perf_counter() - started)
        result["device"] = encoder.device
        result["gpu_runs"][str(batch)] = {"seconds_median": round(statistics.median(times), 3),
                                          "texts_per_s": round(len(texts) / statistics.median(times), 1)}
    reference = json.loads((texts_dir / "onnx-sample.json").read_text())
    onnx = np.load(texts_dir / "onnx-sample.npy")
    gpu = encoder.encode(reference["texts"])
    cosines = np.sum(gpu * onnx, axis=1)
    result["cosine_to_cpu_int8_onnx"] = {"n": len(cosines), "median": round(float(np.median(cosines)), 4),
                                         "min": round(float(cosines.min()), 4)}
    cpu = SentenceTransformerEncoder(EncoderSettings(backend="sentence-transformers", model=str(model),
                                                     device="cpu", batch_size=128))
    cpu_texts = texts[:4000]
    cpu.encode(cpu_texts[:256])
    started = time.perf_counter()
    cpu.encode(cpu_texts)
    result["cpu_same_machine"] = {"texts": len(cpu_texts),
                                  "texts_per_s": round(len(cpu_texts) / (time.perf_counter() - started), 1)}
    best = max(r["texts_per_s"] for r in result["gpu_runs"].values())
    result["gpu_over_cpu_same_machine"] = round(best / result["cpu_same_machine"]["texts_per_s"], 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu-encode.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export")
    ex.add_argument("--out", type=Path, required=True)
    ex.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    ex.add_argument("--vector-cache", type=Path, default=Path("data/eval/vectors.sqlite"))
    go = sub.add_parser("run")
    go.add_argument("--texts", type=Path, required=True)
    go.add_argument("--model", type=Path, required=True)
    go.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "export":
        export(args.out, args.datasets, args.vector_cache)
    else:
        run(args.texts, args.model, args.out)


if __name__ == "__main__":
    main()
