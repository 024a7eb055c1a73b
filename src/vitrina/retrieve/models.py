"""Candidates: ids with the rank and score each retriever gave them, and their fused score."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Candidate(BaseModel):
    id: str
    ranks: dict[str, int] = Field(default_factory=dict)  # retriever -> 1-based rank
    scores: dict[str, float] = Field(default_factory=dict)  # retriever -> raw score
    fused: float = 0.0
    exact: bool = False  # an exact id / title hit, never dropped
