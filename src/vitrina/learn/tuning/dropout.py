"""Dropout for training on a CPU, its masks drawn from numpy's PCG64 instead of torch's generator.

On a CPU drawing torch's dropout masks (`bernoulli_`) took 17% of a cross-encoder training step on 2 cores
(torch 2.13, profiled), more than the optimizer; numpy's PCG64 draws 16 bits an element about ten times faster.
The mask means what torch's does: an element is kept with probability 1 - p (to 1/65536) and a kept one is scaled
by 1/(1 - p); evaluation passes the input through. Seeded from the run's seed, so a run repeats. Side by side on
2 cores in bf16 a cross-encoder step was 1.12x and 1.47x faster in two rounds, an encoder step 1.01x and 1.07x
(bench/results/training-speed-amd-epyc-dropout.md); whole runs 4% (README). A GPU draws its masks fast and keeps
torch's.

BERT-family models in transformers drop attention probabilities inside the attention function, not through a
module, so `eager_attention` (registered with transformers as ATTENTION) is the library's eager attention with
that dropout taken from the attention module's own, once swapped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

ATTENTION = "eager_seeded_dropout"
LEVELS = 1 << 16  # the draws' range: p is kept to 1/65536


class SeededDropout(nn.Module):
    def __init__(self, p: float, draws: np.random.Generator):
        super().__init__()
        self.p = p
        self.draws = draws
        self.cut = round(p * LEVELS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.cut == 0:
            return x
        keep = torch.from_numpy(self.draws.integers(0, LEVELS, size=tuple(x.shape), dtype=np.uint16) >= self.cut)
        return torch.where(keep.to(x.device), x * (1.0 / (1.0 - self.p)), 0.0)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def eager_attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                    attention_mask: torch.Tensor | None, scaling: float | None = None, dropout: float = 0.0,
                    **_: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """transformers' eager attention (query, key, value as batch x heads x tokens x width), the probabilities'
    dropout by the module's own SeededDropout where it has one."""
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        weights = weights + attention_mask
    weights = nn.functional.softmax(weights, dim=-1)
    own = getattr(module, "dropout", None)
    if dropout > 0:
        weights = own(weights) if isinstance(own, SeededDropout) else nn.functional.dropout(weights, p=dropout)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


def register_attention() -> str:
    """Makes ATTENTION a name transformers loads a model with (`attn_implementation`), with eager attention's
    padding mask (a name with no mask of its own gets none: padding would be read); returns it."""
    from transformers import AttentionInterface, AttentionMaskInterface

    AttentionInterface.register(ATTENTION, eager_attention)
    AttentionMaskInterface.register(ATTENTION, AttentionMaskInterface()["eager"])
    return ATTENTION


def use_seeded_dropout(model: nn.Module, seed: int) -> int:
    """Swaps every torch Dropout in `model` for a SeededDropout drawing from one generator seeded by `seed`;
    returns how many it swapped."""
    draws = np.random.default_rng(seed)
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, SeededDropout(child.p, draws))
                swapped += 1
    return swapped
