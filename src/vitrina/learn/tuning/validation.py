"""A trained model's held-out check against the serving order or model."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Validation(BaseModel):
    queries: int
    current: float  # nDCG@10 of the serving model on the held-out queries
    trained: float  # ... and of the new one
    weight: float | None = None  # a cross-encoder's best weight against the incoming scores (rank/cross_encoder.py)
    weights: dict[str, float] = Field(default_factory=dict)  # ... and the nDCG@10 each weight tried gave
    spreads: tuple[float, float] | None = None  # ... and the quartiles of the queries' score spreads (its gate)
    apart_gain: float | None = None  # ... and its mean gain on the queries at or past the upper quartile

    @property
    def gain(self) -> float:
        return self.trained - self.current

    def figures(self) -> dict[str, float]:
        """What a model version's manifest keeps of its check."""
        return {"queries": self.queries, "current": self.current, "trained": self.trained}
