"""Multi-signal ranking with hard filters and a per-hit explanation."""

from __future__ import annotations

import numpy as np

from vitrina.config import RankingWeights
from vitrina.rank.models import Explanation, RankedHit
from vitrina.rank.signals import constraint_score, metadata_score, product_values, quality_score
from vitrina.retrieve.models import Candidate
from vitrina.understand.models import ParsedQuery

EXACT_TITLE_BOOST = 0.08


def _unit(values: dict[str, float]) -> dict[str, float]:
    """Min-max to [0, 1] over the candidate set, so signals of different scales can be weighted."""
    if not values:
        return {}
    lo, hi = min(values.values()), max(values.values())
    span = hi - lo
    return {k: (v - lo) / span if span > 1e-9 else 1.0 for k, v in values.items()}


def violates_hard(product: dict, parsed: ParsedQuery) -> str | None:
    """The index pre-filters these already; checked again so no hit can ever break one."""
    for c in parsed.negated():
        bad = set(product_values(product, c.field)) & set(c.values)
        if bad:
            return f"is {', '.join(sorted(bad))}"
    price = parsed.price
    p = product.get("price")
    if price and price.hard and p is not None:
        if price.catalog_max is not None and p > price.catalog_max:
            return "over the price limit"
        if price.catalog_min is not None and p < price.catalog_min:
            return "under the price floor"
    return None


class Ranker:
    def __init__(self, weights: RankingWeights):
        self.weights = weights.model_dump()

    def rank(self, parsed: ParsedQuery, candidates: list[Candidate], products: dict[str, tuple[dict, np.ndarray | None]],
             query_vector: np.ndarray | None) -> list[RankedHit]:
        usable = [c for c in candidates if c.id in products]
        semantic = {}
        for c in usable:
            vec = products[c.id][1]
            if c.cosine is not None:
                semantic[c.id] = c.cosine
            else:
                semantic[c.id] = float(vec @ query_vector) if vec is not None and query_vector is not None else 0.0
        semantic = _unit(semantic)
        lexical_raw = {c.id: max(c.scores.get("bm25", 0.0), c.scores.get("type_bm25", 0.0)) for c in usable}
        top = max(lexical_raw.values(), default=0.0)
        lexical = {k: (v / top if top > 0 else 0.0) for k, v in lexical_raw.items()}
        phrase = " ".join(parsed.keywords)
        hits = []
        for c in usable:
            product = products[c.id][0]
            if violates_hard(product, parsed):
                continue
            cons, m1, p1 = constraint_score(product, parsed)
            meta, m2, p2 = metadata_score(product, parsed)
            signals = {"semantic": semantic.get(c.id, 0.0), "lexical": lexical.get(c.id, 0.0), "constraint": cons,
                       "metadata": meta, "quality": quality_score(product)}
            contributions = {k: round(self.weights[k] * v, 4) for k, v in signals.items()}
            boosts = {}
            title = (product.get("title") or "").lower()
            if c.exact:
                boosts["exact_id"] = 1.0
            elif phrase and len(phrase) > 3 and phrase in title:
                boosts["exact_title"] = EXACT_TITLE_BOOST
            score = sum(contributions.values()) + sum(boosts.values())
            hits.append(RankedHit(product=product, score=round(score, 5), explanation=Explanation(
                signals={k: round(v, 4) for k, v in signals.items()}, weights=self.weights,
                contributions=contributions, boosts=boosts, matches=m2 + m1, penalties=p2 + p1,
                retrievers=dict(c.ranks), fused=round(c.fused, 6))))
        hits.sort(key=lambda h: (-h.score, h.product.get("id", "")))
        return hits
