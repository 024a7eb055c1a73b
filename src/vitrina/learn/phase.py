"""The learned ranking phase: the first phase's order, moved by what shoppers did (learn.model).

Plugged into a SearchPipeline by name ("learned", in the `learned` ranking profile; "learned:margin" and the other
presets in the `learned-margin` ... profiles an experiment's variants use). It reads the learner's current model
once per search, so an update swapping the model mid-search changes nothing for that search.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vitrina.learn.features import feature_vector, reason
from vitrina.learn.learner import Learner
from vitrina.learn.model import rank_base
from vitrina.learn.window import query_key, query_terms
from vitrina.rank.models import RankedHit
from vitrina.rank.signals import RankContext

MIN_SHOWN_DELTA = 0.005  # smaller learned contributions are not worth a line in the explanation


class LearnedPhase:
    name = "learned"

    def __init__(self, learner: Learner | Callable[[], Learner]):
        # A callable is asked on use: an objective's learner is made only once a profile that runs it is searched.
        self._learner = learner

    @property
    def learner(self) -> Learner:
        return self._learner if isinstance(self._learner, Learner) else self._learner()

    @property
    def version(self) -> str:
        """Part of the engine's response cache key: a new model is a new answer."""
        return f"{self.learner.store.slot}:{self.learner.version}"

    def rerank(self, context: RankContext, hits: list[RankedHit], deadline: float) -> list[RankedHit]:
        for rank, hit in enumerate(hits, start=1):
            hit.explanation.first_rank = rank
        model = self.learner.model
        if model is None or not model.active:
            return hits
        key = query_key(context.parsed.raw)
        terms = query_terms(key)
        ids = [str(h.product.get("id")) for h in hits]
        lifts = np.array([feature_vector(model.evidence, key, terms, pid, h.explanation.signals)
                          for pid, h in zip(ids, hits, strict=True)])
        contributions = lifts * model.weights
        deltas = contributions.sum(axis=1)
        scores = rank_base(np.arange(1, len(hits) + 1, dtype=np.float64)) + deltas
        for hit, pid, delta, parts in zip(hits, ids, deltas, contributions, strict=True):
            if abs(delta) >= MIN_SHOWN_DELTA:
                hit.explanation.learned = round(float(delta), 4)
                hit.explanation.learned_from = reason(model.evidence, key, terms, pid, parts)
                hit.explanation.learned_version = model.info.version
        order = np.argsort(-scores, kind="stable")
        return [hits[i] for i in order]
