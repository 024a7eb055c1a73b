"""Weighted reciprocal rank fusion: score = sum over lists of weight / (k + rank)."""

from __future__ import annotations

from vitrina.index.protocol import Scored
from vitrina.retrieve.models import Candidate


def reciprocal_rank_fusion(lists: dict[str, list[Scored]], weights: dict[str, float], k: int = 60) -> list[Candidate]:
    # Plain dicts while fusing, one Candidate each at the end: ~600 hits a search, and a pydantic attribute
    # write per hit cost more than the fusion itself.
    ranks: dict[str, dict[str, int]] = {}
    scores: dict[str, dict[str, float]] = {}
    fused: dict[str, float] = {}
    for name, hits in lists.items():
        weight = weights.get(name, 1.0)
        for rank, hit in enumerate(hits, start=1):
            seen = ranks.get(hit.id)
            if seen is None:
                seen = ranks[hit.id] = {}
                scores[hit.id], fused[hit.id] = {}, 0.0
            if name not in seen:
                seen[name] = rank
                scores[hit.id][name] = hit.score
                fused[hit.id] += weight / (k + rank)
    candidates = [Candidate(id=pid, ranks=ranks[pid], scores=scores[pid], fused=fused[pid]) for pid in ranks]
    return sorted(candidates, key=lambda c: (-c.fused, c.id))
