"""The personal ranking phase: the query's top hits re-ordered toward what this shopper buys, bounded.

Each hit keeps its relevance as a base (its first-phase score, spread over RELEVANCE_SPAN between the best and the
worst hit in the phase's depth) and gains at most `strength` x (sum of the parts' weights) from the shopper:
closeness to their interaction embedding (relative to the other hits), their share of that brand, colour and
product type, and how well the price sits in their usual range. Hits the query ranks far apart stay apart; hits
it ranks alike are ordered by the shopper. Anonymous shoppers (no profile) never reach this phase.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from vitrina.personalize.profile import ShopperProfile
from vitrina.rank.models import RankedHit
from vitrina.rank.signals import RankContext

PHASE_NAME = "personal"
RELEVANCE_SPAN = 3.0  # the base score gap between the phase's best and worst hit
# At most ~1.5 in all at strength 1, half the relevance span: ties and near-ties move, clear rankings hold.
PART_WEIGHTS = {"meaning": 0.5, "brand": 0.4, "color": 0.2, "type": 0.2, "price": 0.2}
MIN_SHOWN = 0.05  # smaller personal contributions are not worth a line in the explanation


def price_fit(price: float | None, profile: ShopperProfile) -> float | None:
    """1 at the shopper's usual (log) price, falling off over their own spread (at least a factor of 1.3)."""
    if not price or price <= 0 or profile.log_price is None:
        return None
    spread = max(profile.log_price_spread or 0.0, math.log(1.3))
    return math.exp(-0.5 * ((math.log(price) - profile.log_price) / spread) ** 2)


def _values(product: dict, field: str) -> list[str]:
    value = product.get(field) or []
    return [str(v).lower() for v in (value if isinstance(value, list) else [value])]


class PersonalPhase:
    name = PHASE_NAME

    def __init__(self, vectors: Callable[[list[str]], dict[str, np.ndarray]], strength: float = 1.0):
        self._vectors = vectors  # product id -> vector, for the hits being re-ordered
        self.strength = strength

    def rerank(self, context: RankContext, hits: list[RankedHit], deadline: float) -> list[RankedHit]:
        profile = context.shopper
        if profile is None or not profile.known or self.strength <= 0:
            return hits
        scores = np.array([h.score for h in hits], dtype=np.float64)
        span = float(scores.max() - scores.min())
        base = RELEVANCE_SPAN * (scores - scores.max()) / span if span > 0 else np.zeros(len(hits))
        meaning = self._meaning(hits, profile)
        lifts = np.zeros(len(hits))
        for i, hit in enumerate(hits):
            parts, reasons = self._parts(hit.product, profile, meaning[i])
            lift = self.strength * sum(PART_WEIGHTS[name] * value for name, value in parts.items())
            lifts[i] = lift
            if abs(lift) >= MIN_SHOWN:
                hit.explanation.personal = round(float(lift), 4)
                hit.explanation.personal_reasons = reasons
        order = np.argsort(-(base + lifts), kind="stable")
        return [hits[i] for i in order]

    def _meaning(self, hits: list[RankedHit], profile: ShopperProfile) -> np.ndarray:
        """Closeness to the interaction embedding, as standard scores among these hits, in [-1, 1]."""
        if profile.vector is None:
            return np.zeros(len(hits))
        ids = [str(h.product.get("id")) for h in hits]
        found = self._vectors(ids)
        user = np.asarray(profile.vector, dtype=np.float32)
        cos = np.array([float(found[i] @ user) if i in found else np.nan for i in ids])
        if np.all(np.isnan(cos)):
            return np.zeros(len(hits))
        mean, std = np.nanmean(cos), np.nanstd(cos)
        z = np.nan_to_num((cos - mean) / (std if std > 1e-6 else 1.0), nan=0.0)
        return np.clip(z / 2.0, -1.0, 1.0)

    @staticmethod
    def _parts(product: dict, profile: ShopperProfile, meaning: float) -> tuple[dict[str, float], list[str]]:
        parts: dict[str, float] = {"meaning": meaning}
        reasons: list[str] = []
        if meaning >= 0.5:
            reasons.append("close to what you have bought and viewed")
        # the type counts, but goes unsaid: the query names the type more often than not
        for part, field, shares, say in (("brand", "brand", profile.brands, "you often buy {}"),
                                         ("color", "colors", profile.colors, "in a colour you often choose: {}"),
                                         ("type", "product_type", profile.types, "")):
            best = max(((shares.get(v, 0.0), v) for v in _values(product, field)), default=(0.0, ""))
            parts[part] = best[0]
            if best[0] >= 0.3 and say:
                reasons.append(say.format(profile.names.get(best[1], best[1])))
        fit = price_fit(product.get("price"), profile)
        if fit is not None:
            parts["price"] = fit - 0.5  # in range lifts, far outside it lowers
            if fit >= 0.6:
                reasons.append("in your usual price range")
        return parts, reasons
