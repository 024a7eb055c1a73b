"""Where and in what precision a fine-tune runs: a CUDA GPU in fp16 when torch sees one; on a CPU with AMX tiles
(Intel Sapphire Rapids and later) in bf16, 1.64x faster a step than fp32 for the bi-encoder and 1.55x for the
cross-encoder on 2 cores (bench/training_precision.py), with the same held-out nDCG@10 for Home Depot
(bench/results/tenant-model-homedepot.md); elsewhere in fp32.

bf16 comes with eager attention: torch's fused CPU attention is 11x slower backward in bf16 than in fp32 (measured
with torch 2.13), which would eat the gain.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from vitrina.config import TuningSettings

Precision = Literal["fp32", "fp16", "bf16"]


class TrainingHardware(BaseModel):
    device: str  # "cpu", "cuda", ...
    precision: Precision

    def arguments(self) -> dict[str, Any]:
        """The trainer arguments that select this device and precision."""
        return {"use_cpu": self.device == "cpu", "fp16": self.precision == "fp16", "bf16": self.precision == "bf16"}

    def model_kwargs(self) -> dict[str, Any]:
        """Passed to transformers when the model loads."""
        return {"attn_implementation": "eager"} if self.precision == "bf16" and self.device == "cpu" else {}


def cpu_has_amx() -> bool:
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private in torch 2.x: absent means unknown, so no
    return bool(probe and probe())


def training_hardware(settings: TuningSettings) -> TrainingHardware:
    import torch

    device = settings.device if settings.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    precision: Precision
    if settings.precision != "auto":
        precision = settings.precision
    elif device != "cpu":
        precision = "fp16"
    else:
        precision = "bf16" if cpu_has_amx() else "fp32"
    return TrainingHardware(device=device, precision=precision)
