"""Weighted reciprocal rank fusion: score = sum over lists of weight / (k + rank)."""

from __future__ import annotations

from vitrina.index.protocol import Scored
from vitrina.retrieve.models import Candidate


def reciprocal_rank_fusion(lists: dict[str, list[Scored]], weights: dict[str, float], k: int = 60) -> list[Candidate]:
    candidates: dict[str, Candidate] = {}
    for name, hits in lists.items():
        weight = weights.get(name, 1.0)
        for rank, hit in enumerate(hits, start=1):
            cand = candidates.get(hit.id)
            if cand is None:
                cand = candidates[hit.id] = Candidate(id=hit.id)
            if name not in cand.ranks:
                cand.ranks[name] = rank
                cand.scores[name] = hit.score
                cand.fused += weight / (k + rank)
    return sorted(candidates.values(), key=lambda c: (-c.fused, c.id))
