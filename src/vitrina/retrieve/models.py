"""Candidates: ids with the rank and score each retriever gave them, and their fused score."""

from __future__ import annotations

from pydantic import BaseModel, Field

# Lists whose scores are the cosine of the product and the query vector: no need to fetch those vectors again.
COSINE_LISTS = ("vector", "type_vector", "brand_vector")


class Candidate(BaseModel):
    id: str
    ranks: dict[str, int] = Field(default_factory=dict)  # retriever -> 1-based rank
    scores: dict[str, float] = Field(default_factory=dict)  # retriever -> raw score
    fused: float = 0.0
    exact: bool = False  # an exact id / title hit, never dropped

    @property
    def cosine(self) -> float | None:
        return next((self.scores[name] for name in COSINE_LISTS if name in self.scores), None)
