"""Facets for a result set, keeping the ones that split it usefully for this query."""

from __future__ import annotations

import math
from collections import Counter

from pydantic import BaseModel

from vitrina.rank.models import RankedHit

FACET_FIELDS = {"product_type": "type", "brand": "brand", "primary_color": "colour", "gender": "gender",
                "materials": "material", "pattern": "pattern", "fit": "fit", "occasions": "occasion"}
PRICE_BANDS = 5
MAX_FACETS = 5
MAX_VALUES = 12


class FacetValue(BaseModel):
    value: str
    count: int
    filter: dict  # what to send back as `filters` to apply this value


class Facet(BaseModel):
    field: str
    label: str
    values: list[FacetValue]
    usefulness: float  # normalised entropy: how evenly this facet splits the results


def _entropy(counts: list[int]) -> float:
    total = sum(counts)
    if total == 0 or len(counts) < 2:
        return 0.0
    h = -sum(c / total * math.log(c / total) for c in counts if c)
    return h / math.log(len(counts))


FILTER_FIELD = {"product_type": "type", "brand": "brand", "primary_color": "primary_color", "gender": "gender",
                "materials": "materials", "pattern": "pattern", "fit": "fit", "occasions": "occasions"}


# Names a shopper (or the LLM's reading of the query) gives a facet -> the facet's field.
FACET_NAMES = {**{label: field for field, label in FACET_FIELDS.items()}, **{field: field for field in FACET_FIELDS},
               "color": "primary_color", "category": "product_type", "price": "price", "occasion": "occasions"}


def facets_for(hits: list[RankedHit], wanted: list[str] | None = None) -> list[Facet]:
    """The facets that split these hits usefully, most useful first; those the query's reading says matter
    (`wanted`, e.g. the LLM's ["color", "size", "price"]) go first when the hits have them."""
    out: list[Facet] = []
    for field, label in FACET_FIELDS.items():
        counts: Counter[str] = Counter()
        for hit in hits:
            value = hit.product.get(field)
            for v in value if isinstance(value, list) else [value]:
                if v:
                    counts[str(v)] += 1
        if len(counts) < 2:
            continue
        top = counts.most_common(MAX_VALUES)
        covered = sum(c for _, c in top) / max(1, len(hits))
        usefulness = _entropy([c for _, c in top]) * min(1.0, covered)
        values = [FacetValue(value=v, count=c, filter={FILTER_FIELD[field]: v.lower()}) for v, c in top]
        out.append(Facet(field=field, label=label, values=values, usefulness=round(usefulness, 3)))
    prices = sorted(h.product["price"] for h in hits if h.product.get("price"))
    if len(prices) >= PRICE_BANDS * 2:
        edges = [prices[int(i * (len(prices) - 1) / PRICE_BANDS)] for i in range(PRICE_BANDS + 1)]
        values = []
        for lo, hi in zip(edges, edges[1:], strict=False):
            count = sum(1 for p in prices if lo <= p <= hi)
            if count and hi > lo:
                values.append(FacetValue(value=f"{lo:g}–{hi:g}", count=count, filter={"price": {"gte": lo, "lte": hi}}))
        if len(values) >= 2:
            out.append(Facet(field="price", label="price", values=values, usefulness=0.5))
    order = [FACET_NAMES[w] for w in (wanted or []) if w in FACET_NAMES]
    out.sort(key=lambda f: (order.index(f.field) if f.field in order else len(order), -f.usefulness))
    return [f for f in out if f.usefulness > 0.15 or f.field in order][:MAX_FACETS]
