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
    learned: float | None = None  # what the learned phase added (on its rank scale), when it moved this hit
    learned_from: str | None = None  # "37 purchases, 120 clicks for this query"
    learned_version: int | None = None
    first_rank: int | None = None  # its rank before the learned phase (logged with the impression)
    learned_order: float | None = None  # the index's learned order's score for this hit, where it ran
    cross_encoder: float | None = None  # the index's re-ranker's score (a logit), where it read this hit
    personal: float | None = None  # what the personal phase added for this shopper, when it moved this hit
    personal_reasons: list[str] = Field(default_factory=list)  # "you often buy Nike"


class RankedHit(BaseModel):
    product: dict
    score: float
    explanation: Explanation
