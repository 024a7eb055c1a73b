"""What the catalog itself says: its taxonomy, brands, values, words and price distribution.

Computed when an index generation is published (index/store.py) and read by understanding and retrieval.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, Field

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
SIDES = ({"women", "girls"}, {"men", "boys"})
ONE_SIDED = 0.9  # the share of a type's products one side's genders must hold for the type to say whose it is
HARDLY = 0.02  # below this share of a type's products, a catalog sells it to a gender only by a feed's slip
WORN_FOR = 0.8  # the share of a type's products one occasion must hold for the type to say what it is worn for


class CatalogStats(BaseModel):
    count: int = 0
    currency: str | None = None
    values: dict[str, dict[str, int]] = Field(default_factory=dict)  # field -> lower-cased value -> count
    names: dict[str, str] = Field(default_factory=dict)  # lower-cased type/brand -> display form
    price_quantiles: dict[str, list[float]] = Field(default_factory=dict)  # type ("*" = all) -> QUANTILES
    words: dict[str, int] = Field(default_factory=dict)  # word of the catalog's texts -> products using it
    type_genders: dict[str, dict[str, int]] = Field(default_factory=dict)  # type -> gender -> products
    type_occasions: dict[str, dict[str, int]] = Field(default_factory=dict)  # type -> occasion -> products

    def genders_of(self, product_types: Iterable[str]) -> list[str]:
        """Whose products of these types are, where the catalog sells them to one side (a dress: women and girls)
        with unisex: what goes with them is theirs. [] where they are sold to both, or the catalog has no genders."""
        side = _side(_summed(self.type_genders, product_types))
        return sorted(side | {"unisex"}) if side else []

    def sold_to(self, product_types: Iterable[str]) -> dict[str, int]:
        """How many products of these types the catalog sells to each gender."""
        return _summed(self.type_genders, product_types)

    def hardly_sold_to(self, product_types: Iterable[str], genders: Iterable[str]) -> bool:
        """Whether (nearly) none of these types' products are sold to these genders: heels to men, not kurtas."""
        counts = self.sold_to(product_types)
        total = sum(counts.values())
        return bool(total) and sum(counts.get(g, 0) for g in set(genders)) < HARDLY * total

    def gender_of(self, product_types: Iterable[str]) -> str | None:
        """The gender most products of these types are sold to, where they are one side's ("women" for dresses)."""
        counts = _summed(self.type_genders, product_types)
        side = _side(counts)
        return max(side, key=lambda g: counts.get(g, 0)) if side else None

    def occasion_of(self, product_types: Iterable[str]) -> str | None:
        """The occasion nearly all products of these types are for, where one is ("formal" for blazers, "ethnic"
        for kurtas): what goes with them is for it too. None where they are worn for several (t-shirts, ties)."""
        types = list(product_types)
        total = sum(self.values.get("type", {}).get(t, 0) for t in types)
        counts = _summed(self.type_occasions, types)
        best = max(counts, key=lambda o: counts[o], default=None)
        return best if best and counts[best] >= WORN_FOR * total else None

    def usual_occasion(self) -> str | None:
        """The occasion most of the catalog is for (a fashion shop's "casual"): a type worn for it sets nothing apart."""
        counts = self.values.get("occasions", {})
        return max(counts, key=lambda o: counts[o]) if counts else None

    def occasions_recorded(self, product_types: Iterable[str]) -> set[str]:
        """The occasions any product of these types is recorded for."""
        return set(_summed(self.type_occasions, product_types))

    def quantile(self, q: float, product_type: str | None = None) -> float | None:
        row = self.price_quantiles.get(product_type or "*") or self.price_quantiles.get("*")
        if not row:
            return None
        return row[QUANTILES.index(q)] if q in QUANTILES else float(np.interp(q, QUANTILES, row))


def _summed(table: dict[str, dict[str, int]], product_types: Iterable[str]) -> dict[str, int]:
    """A per-type count table (type -> label -> products) summed over these types."""
    counts: dict[str, int] = {}
    for product_type in product_types:
        for label, n in table.get(product_type, {}).items():
            counts[label] = counts.get(label, 0) + n
    return counts


def _side(counts: dict[str, int]) -> set[str] | None:
    """The side (women and girls, or men and boys) that holds nearly all of these products, if one does."""
    total = sum(counts.values())
    return next((side for side in SIDES if total and sum(counts.get(g, 0) for g in side) >= ONE_SIDED * total), None)
