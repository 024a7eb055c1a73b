"""What int8 costs a cross-encoder's quality, by how its weights are scaled: a version served in fp32 (after
bench/tenant_reranker.py, same index and split), its graph quantised with one scale per weight matrix (how
training exported int8 before) and with one per output channel (learn/tuning/export.quantize_int8 now). Each
graph reads each query's top 30 (all of it, no time budget) and re-orders it at the version's weight; nDCG@10 on
the training run's validation queries (where the served graph is chosen) and on the unseen 20%.

    python bench/reranker_quantization.py --version v0003   # writes bench/results/reranker-quantization.{json,md}
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from reranker_combination import DEPTH, mean_ndcgs, version_run, write_report  # a sibling script: bench/ is on the path

from vitrina.engine import open_engine
from vitrina.learn.tuning.export import quantize_int8
from vitrina.rank.cross_encoder import OnnxCrossEncoder, combined_order

RESULTS = Path("bench/results")


def per_matrix_int8(fp32: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
    return out


def main() -> None:
    args, settings, sets = version_run("a cross-encoder version served in fp32")
    engine = open_engine(args.index, settings)
    manifest = engine.models.manifest(args.version)
    if manifest.precision != "fp32" or manifest.rerank_weight is None:
        raise SystemExit(f"{args.version} serves {manifest.precision}: this bench needs a version's fp32 graph and "
                         "its weight (one trained since the weight exists, served in fp32)")
    onnx, tokenizer = engine.models.files(args.version)
    serving = engine.models.reranker()
    engine.use_reranker(None)  # the incoming order is the pipeline's without it
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "model.onnx"
        copy.write_bytes(onnx.read_bytes())
        paths = {"fp32": onnx, "int8, a scale per matrix": per_matrix_int8(onnx, Path(work) / "matrix.onnx"),
                 "int8, a scale per channel": quantize_int8(copy)}
        graphs = {name: OnnxCrossEncoder(path, tokenizer, settings.search_threads, manifest.max_length)
                  for name, path in paths.items()}
        weight = manifest.rerank_weight
        try:
            means = mean_ndcgs(engine, sets, lambda scores, pairs: {
                name: combined_order(scores, graph.logits(pairs), weight) for name, graph in graphs.items()})
        finally:
            engine.use_reranker(serving)
            engine.close()
    write_report("reranker-quantization", f"# What int8 costs the cross-encoder {args.version}: Home Depot",
                 f"nDCG@10 of the top {DEPTH}, all of it read and re-ordered at the version's weight ({weight}); "
                 "training serves int8 unless it scores more than 0.002 below fp32 on the validation queries.",
                 "graph", args.version, sets, means)


if __name__ == "__main__":
    main()
