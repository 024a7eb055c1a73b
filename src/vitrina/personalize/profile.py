"""A shopper's profile, from what they clicked, carted and bought.

- Interaction embedding: the recency-weighted mean of those products' vectors (a purchase counts more than a
  click; an interaction `half_life_days` old counts half), normalised: where in the catalog's space they shop.
- Affinities: the share of that weight per brand, colour and product type ("you often buy Nike").
- Price: the weighted mean and spread of log prices they paid or looked at: their usual range.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

EVENT_WEIGHT = {"click": 0.3, "add_to_cart": 0.6, "purchase": 1.0}


class Interaction(BaseModel):
    model_config = ConfigDict(frozen=True)
    product_id: str
    type: str  # click | add_to_cart | purchase
    at: datetime
    price: float | None = None  # what was paid, when the event says


class ShopperProfile(BaseModel):
    user: str
    interactions: int = 0
    vector: list[float] | None = None  # the interaction embedding (unit length)
    brands: dict[str, float] = Field(default_factory=dict)  # lower-cased value -> share of the weight
    colors: dict[str, float] = Field(default_factory=dict)
    types: dict[str, float] = Field(default_factory=dict)
    names: dict[str, str] = Field(default_factory=dict)  # lower-cased value -> how the catalog writes it
    log_price: float | None = None  # weighted mean of log prices
    log_price_spread: float | None = None  # weighted standard deviation of log prices

    @property
    def known(self) -> bool:
        return self.interactions > 0


def _share(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: round(v / total, 4) for k, v in sorted(weights.items(), key=lambda kv: -kv[1])[:20]} if total else {}


def build_profile(user: str, interactions: Sequence[Interaction], records: Mapping[str, dict],
                  vectors: Mapping[str, np.ndarray], half_life_days: float = 30.0,
                  now: datetime | None = None) -> ShopperProfile:
    """The profile of one shopper; products no longer in the catalog are left out."""
    now = now or max((i.at for i in interactions), default=datetime.now(UTC))
    weighted: list[tuple[float, Interaction, dict]] = []
    for item in interactions:
        record = records.get(item.product_id)
        if record is None:
            continue
        age_days = max(0.0, (now - item.at).total_seconds() / 86400)
        weight = EVENT_WEIGHT.get(item.type, 0.0) * 0.5 ** (age_days / half_life_days)
        if weight > 0:
            weighted.append((weight, item, record))
    profile = ShopperProfile(user=user, interactions=len(weighted))
    if not weighted:
        return profile
    rows = [(w, vectors[i.product_id]) for w, i, _ in weighted if i.product_id in vectors]
    if rows:
        mean = np.sum([w * v for w, v in rows], axis=0)
        norm = float(np.linalg.norm(mean))
        profile.vector = (mean / norm).astype(np.float32).tolist() if norm > 0 else None
    tallies: dict[str, dict[str, float]] = {"brand": defaultdict(float), "colors": defaultdict(float),
                                            "product_type": defaultdict(float)}
    prices: list[tuple[float, float]] = []
    for weight, item, record in weighted:
        for field, tally in tallies.items():
            values = record.get(field) or []
            for value in values if isinstance(values, list) else [values]:
                tally[str(value).lower()] += weight
                profile.names.setdefault(str(value).lower(), str(value))
        price = item.price if item.price is not None else record.get("price")
        if price:
            prices.append((weight, math.log(float(price))))
    profile.brands, profile.colors, profile.types = (_share(tallies["brand"]), _share(tallies["colors"]),
                                                     _share(tallies["product_type"]))
    if prices:
        total = sum(w for w, _ in prices)
        mean_log = sum(w * p for w, p in prices) / total
        profile.log_price = round(mean_log, 4)
        profile.log_price_spread = round(math.sqrt(sum(w * (p - mean_log) ** 2 for w, p in prices) / total), 4)
    return profile
