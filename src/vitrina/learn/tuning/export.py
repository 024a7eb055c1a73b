"""A fine-tuned sentence-transformers model to the ONNX graph the serving encoder runs (embed/encoder.py), no
torch at search time. The graph gives token states; pooling and normalising stay in OnnxMiniLMEncoder, as for
the packaged model. An int8 copy is kept only where its vectors stay within `min_cosine` of fp32's."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from vitrina.config import EncoderSettings
from vitrina.embed.encoder import OnnxMiniLMEncoder

OPSET = 17


class ExportReport(BaseModel):
    precision: str  # "fp32" or "int8"
    int8_min_cosine: float | None = None  # the int8 graph's worst cosine to fp32 on the check texts
    fp32_min_cosine: float  # the fp32 graph against torch itself: the export is faithful
    onnx_mb: float


INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def export_graph(model: Any, sample: Any, path: Path, output: str, output_axes: dict[int, str]) -> None:
    """A Hugging Face model as an ONNX graph of the three BERT inputs (batch and tokens dynamic) to one plain
    tensor, the model output's `output` field (a module returning it alone: the legacy exporter wants tensors)."""
    import torch

    class Single(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return getattr(self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=token_type_ids), output)

    model.eval()
    with torch.no_grad():
        torch.onnx.export(Single(model), tuple(sample[n] for n in INPUTS), str(path), input_names=INPUTS,
                          output_names=[output], dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in INPUTS},
                                                               output: output_axes},
                          opset_version=OPSET, dynamo=False)


def quantize_int8(fp32: Path) -> Path:
    """An int8 copy of an fp32 graph beside it (weights int8, activations quantised per batch as they come):
    about 2.3x faster on a CPU core (bench/cross_encoder_speed.py), to be kept only where a check says it still
    does the fp32 graph's job. Weights get a scale per output channel, not one per matrix: as fast, and a
    cross-encoder's held-out nDCG@10 fell 0.0006 from fp32 instead of 0.0051
    (bench/results/reranker-quantization.md)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = fp32.with_suffix(".int8.onnx")
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return int8


def export_onnx(model_dir: Path, out_dir: Path, check_texts: list[str], min_cosine: float = 0.999,
                max_length: int = 256) -> ExportReport:
    """Writes out_dir/model.onnx and out_dir/tokenizer.json from a SentenceTransformer folder."""
    from sentence_transformers import SentenceTransformer

    out_dir.mkdir(parents=True, exist_ok=True)
    model = SentenceTransformer(str(model_dir), device="cpu")
    transformer: Any = model[0].auto_model
    tokenizer_file = model_dir / "tokenizer.json"
    if not tokenizer_file.exists():
        model.tokenizer.save_pretrained(str(model_dir))
    shutil.copy(tokenizer_file, out_dir / "tokenizer.json")
    sample = model.tokenizer(["a sample query", "a longer sample product title"], padding=True, return_tensors="pt")
    fp32 = out_dir / "model.onnx"
    export_graph(transformer, sample, fp32, "last_hidden_state", {0: "batch", 1: "tokens"})
    reference = model.encode(check_texts, normalize_embeddings=True, convert_to_numpy=True)
    settings = EncoderSettings(onnx_path=str(fp32), tokenizer_path=str(out_dir / "tokenizer.json"),
                               max_length=max_length)
    exported = OnnxMiniLMEncoder(settings).encode(check_texts)
    fp32_cos = float(np.min(np.sum(reference * exported, axis=1)))
    report = ExportReport(precision="fp32", fp32_min_cosine=round(fp32_cos, 5), onnx_mb=0.0)
    int8 = quantize_int8(fp32)
    quantised = OnnxMiniLMEncoder(settings.model_copy(update={"onnx_path": str(int8)})).encode(check_texts)
    report.int8_min_cosine = round(float(np.min(np.sum(exported * quantised, axis=1))), 5)
    if report.int8_min_cosine >= min_cosine:
        int8.replace(fp32)
        report.precision = "int8"
    else:
        int8.unlink()
    report.onnx_mb = round(fp32.stat().st_size / 2**20, 1)
    return report
