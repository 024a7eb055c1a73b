"""Ranked hits with their reasons: every signal's score, what matched, what was penalised."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Explanation(BaseModel):
    signals: dict[str, float] = Field(default_factory=dict)  # signal -> score in [0, 1]
    weights: dict[str, float] = Field(default_factory=dict)
    contributions: dict[str, float] = Field(default_factory=dict)  # weight * score
    boosts: dict[str, float] = Field(default_factory=dict)
    matches: list[str] = Field(default_factory=list)
    penalties: list[str] = Field(default_factory=list)
    retrievers: dict[str, int] = Field(default_factory=dict)  # retriever -> rank it gave
    fused: float = 0.0


class RankedHit(BaseModel):
    product: dict
    score: float
    explanation: Explanation
