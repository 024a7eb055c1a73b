"""Hard constraints of a parsed query, and caller-given filters, as index pre-filters."""

from __future__ import annotations

from typing import Any

from vitrina.index.protocol import FLOAT_FIELDS, KEYWORD_FIELDS, FilterSpec, Match, Range
from vitrina.index.store import CatalogStats
from vitrina.understand.models import ParsedQuery

FILTERABLE = set(KEYWORD_FIELDS) | set(FLOAT_FIELDS) | {"in_stock"}


def query_filters(parsed: ParsedQuery, stats: CatalogStats) -> tuple[FilterSpec, FilterSpec]:
    """(hard, relaxable): explicit price, gender and negations are hard; "cheap" and the like relax."""
    hard, soft = FilterSpec(), FilterSpec()
    price = parsed.price
    if price and (price.catalog_min is not None or price.catalog_max is not None):
        target = hard if price.hard else soft
        target.must.append(Range(field="price", gte=price.catalog_min, lte=price.catalog_max))
    genders = [c for c in parsed.positive("genders") if not c.implied]
    if genders and stats.values.get("gender"):  # a catalog without genders is not filtered on them
        values = sorted({v for c in genders for v in c.values})
        hard.must.append(Match(field="gender", values=values))
    for c in parsed.negated():
        if c.values:
            hard.must_not.append(Match(field=c.field, values=list(c.values)))
    return hard, soft


def caller_filters(filters: dict[str, Any] | None) -> FilterSpec:
    """{"brand": "nike", "colors": ["black", "white"], "price": {"gte": 10, "lte": 50}} -> FilterSpec."""
    spec = FilterSpec()
    for name, value in (filters or {}).items():
        if name not in FILTERABLE:
            raise ValueError(f"cannot filter on {name!r}; filterable fields: {', '.join(sorted(FILTERABLE))}")
        if isinstance(value, dict):
            unknown = set(value) - {"gte", "lte"}
            if unknown or name not in FLOAT_FIELDS:
                raise ValueError(f"filter {name!r}: a range needs a numeric field and only gte/lte keys")
            spec.must.append(Range(field=name, gte=value.get("gte"), lte=value.get("lte")))
        else:
            values = value if isinstance(value, list) else [value]
            spec.must.append(Match(field=name, values=[str(v).lower() for v in values]))
    return spec
