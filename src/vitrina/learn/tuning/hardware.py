"""Where and in what precision a fine-tune runs: a CUDA GPU in fp16 when torch sees one; on a CPU that multiplies
bf16 in hardware, in bf16: with AMX tiles (Intel Sapphire Rapids and later) 1.64x faster a step than fp32 for the
bi-encoder and 1.55x for the cross-encoder on 2 cores (bench/results/training-precision.md), with AVX-512 BF16
(an AMD EPYC here) 1.90x and 1.72x (bench/results/training-speed-amd-epyc.md), with the same held-out nDCG@10 for
Home Depot (bench/results/tenant-model-homedepot*.md); elsewhere in fp32.

bf16 comes with eager attention: torch's fused CPU attention is 11x slower backward in bf16 than in fp32 (measured
with torch 2.13), which would eat the gain. On a CPU the dropout masks come from numpy (dropout.py) unless the
settings say torch; in fp32 the fused attention still drops its probabilities with torch's own.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from vitrina.config import TuningSettings

Precision = Literal["fp32", "fp16", "bf16"]


class TrainingHardware(BaseModel):
    device: str  # "cpu", "cuda", ...
    precision: Precision
    seeded_dropout: bool = False  # dropout masks drawn by numpy (dropout.py), not torch

    def arguments(self) -> dict[str, Any]:
        """The trainer arguments that select this device and precision."""
        return {"use_cpu": self.device == "cpu", "fp16": self.precision == "fp16", "bf16": self.precision == "bf16"}

    def model_kwargs(self) -> dict[str, Any]:
        """Passed to transformers when the model loads."""
        if self.precision != "bf16" or self.device != "cpu":
            return {}
        from vitrina.learn.tuning.dropout import register_attention

        return {"attn_implementation": register_attention() if self.seeded_dropout else "eager"}

    def prepare(self, model: Any, seed: int) -> None:
        """Readies a loaded model to train here: its dropouts drawn by numpy where that is the choice."""
        if self.seeded_dropout:
            from vitrina.learn.tuning.dropout import use_seeded_dropout

            use_seeded_dropout(model, seed)


def cpu_bf16_units() -> str | None:
    """"amx" or "avx512_bf16": how this CPU multiplies bf16 in hardware; None where it does not (or torch cannot
    tell: the probes are private in torch 2.x)."""
    import torch

    for name, probe in (("amx", "_is_amx_tile_supported"), ("avx512_bf16", "_is_avx512_bf16_supported")):
        check = getattr(torch.cpu, probe, None)
        if check is not None and check():
            return name
    return None


def training_hardware(settings: TuningSettings) -> TrainingHardware:
    import torch

    device = settings.device if settings.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    precision: Precision
    if settings.precision != "auto":
        precision = settings.precision
    elif device != "cpu":
        precision = "fp16"
    else:
        precision = "bf16" if cpu_bf16_units() else "fp32"
    return TrainingHardware(device=device, precision=precision,
                            seeded_dropout=device == "cpu" and settings.dropout_sampler == "numpy")
