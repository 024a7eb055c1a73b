"""How much an index's own encoder counts against the words: fitted on the run's validation queries once it serves.

The domain's profiles weigh meaning (the semantic signal, the vector lists) for the generic encoder. A model
fine-tuned on the shop's own judgments or clicks is stronger, and with those weights the full pipeline passes
little of its gain on. After a trained version is published, multipliers on the meaning weights are chosen by
full-pipeline nDCG@10 on the run's validation queries (kept out of training): first the semantic signal's, then,
at the best of those, the vector lists'. The best is kept beside the model version (models/vNNNN/blend.json) only
if it beats 1x by `MIN_GAIN`; every ranking profile (one with signals) serves with it while that version serves,
and a rollback brings the other version's own blend, or none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.rank.profiles import RankProfile

if TYPE_CHECKING:
    from vitrina.engine import Engine

MEANING_LISTS = ("vector", "type_vector", "brand_vector")  # the retriever lists the text encoder's vectors drive
SEMANTIC_STEPS = (1.0, 1.5, 2.0, 3.0, 4.0)
VECTOR_STEPS = (1.0, 1.5, 2.0, 3.0)
TRIAL = "blend-trial"  # the name each trial blend is served under while it is scored
MIN_GAIN = 0.005  # nDCG@10 a blend must add over 1x to be kept: smaller is within the noise of a few hundred queries


class Blend(BaseModel):
    """Multipliers on a profile's meaning weights, and what they scored on the validation queries."""
    semantic: float = Field(default=1.0, gt=0)  # x the semantic signal's weight
    vectors: float = Field(default=1.0, gt=0)  # x the RRF weights of the vector lists
    queries: int = 0
    ndcg_at_1x: float = 0.0
    ndcg: float = 0.0
    trials: list[tuple[float, float, float]] = Field(default_factory=list)  # (semantic, vectors, nDCG@10) each tried

    def apply(self, profile: RankProfile) -> RankProfile:
        """The profile with its meaning weighed by this blend; ablations (no signals) are left as they are."""
        if not profile.signals:
            return profile
        signals = dict(profile.signals)
        if "semantic" in signals:
            signals["semantic"] = round(signals["semantic"] * self.semantic, 4)
        retrievers = {name: round(w * self.vectors, 4) if name in MEANING_LISTS else w
                      for name, w in profile.retrievers.items()}
        return profile.model_copy(update={"signals": signals, "retrievers": retrievers})


def fit_blend(engine: Engine, gains: dict[str, dict[str, float]],
              log: Callable[[str], None] = lambda _: None) -> Blend:
    """The blend of the serving profile with the best mean nDCG@10 over `gains` (query -> product -> gain). The
    engine's model version must have no blend yet: trials weigh the profile as the rules declare it."""
    base = engine.profiles.get(engine.settings.ranking_profile)
    queries = sorted(q for q, graded in gains.items() if any(g > 0 for g in graded.values()))

    def score(blend: Blend) -> float:
        engine.set_profile(TRIAL, blend.apply(base))
        found = [[h.product["id"] for h in engine.search(q, size=10, profile=TRIAL).hits] for q in queries]
        return float(np.mean([ndcg_at_k(ids, gains[q], 10) for q, ids in zip(queries, found, strict=True)] or [0]))

    tried: dict[tuple[float, float], float] = {}

    def trial(semantic: float, vectors: float) -> float:
        if (semantic, vectors) not in tried:
            tried[(semantic, vectors)] = score(Blend(semantic=semantic, vectors=vectors))
            log(f"blend: semantic x{semantic}, vectors x{vectors}: nDCG@10 {tried[(semantic, vectors)]:.4f}")
        return tried[(semantic, vectors)]

    semantic = max(SEMANTIC_STEPS, key=lambda s: (trial(s, 1.0), -s))
    vectors = max(VECTOR_STEPS, key=lambda v: (trial(semantic, v), -v))
    engine.set_profile(TRIAL, None)
    at_1x, best = tried[(1.0, 1.0)], tried[(semantic, vectors)]
    if best - at_1x < MIN_GAIN:
        semantic, vectors, best = 1.0, 1.0, at_1x
    return Blend(semantic=semantic, vectors=vectors, queries=len(queries), ndcg_at_1x=round(at_1x, 4),
                 ndcg=round(best, 4), trials=[(s, v, round(n, 4)) for (s, v), n in tried.items()])
