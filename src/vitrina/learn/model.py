"""A learned model: weights over the debiased evidence, the evidence itself, and how it was chosen.

It re-orders a ranking it is given: each hit keeps the first phase's order as its base, -log2(1 + rank), and
adds weights . features (features.FEATURES). A rank base, not the first phase's raw score, so the same weights hold
for every profile and every query's score scale, and with no evidence the order is exactly the static one.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime

import numpy as np
from pydantic import BaseModel, Field

from vitrina.learn.evidence import Evidence
from vitrina.learn.features import FEATURES
from vitrina.learn.objective import Objective


def rank_base(ranks: np.ndarray) -> np.ndarray:
    """The static order as a score: position 1 -> -1, 2 -> -1.58, 10 -> -3.46 (the DCG discount)."""
    return -np.log2(1.0 + ranks)


class ModelInfo(BaseModel):
    version: int
    created_at: datetime
    objective: Objective
    weights: dict[str, float]  # feature -> weight (features.FEATURES)
    propensities: list[float]  # theta per position, 1-based positions
    searches: int = 0  # searches in the window it learned from
    learned_events: int = 0
    ignored_events: dict[str, int] = Field(default_factory=dict)
    last_event: int = 0
    gate: dict[str, float] = Field(default_factory=dict)  # offline estimate per candidate on held-out searches
    chosen: str = "static"  # which weights the gate chose: new | kept | static


class LearnedModel:
    def __init__(self, info: ModelInfo, evidence: Evidence):
        self.info = info
        self.evidence = evidence
        self.weights = np.array([info.weights.get(f, 0.0) for f in FEATURES])

    @property
    def active(self) -> bool:
        return bool(np.any(self.weights != 0))

    def dump(self) -> bytes:
        return zlib.compress(json.dumps({"info": self.info.model_dump(mode="json"),
                                         "evidence": self.evidence.dump()}).encode(), 6)

    @classmethod
    def load(cls, blob: bytes) -> LearnedModel:
        data = json.loads(zlib.decompress(blob))
        return cls(ModelInfo.model_validate(data["info"]), Evidence.load(data["evidence"]))
