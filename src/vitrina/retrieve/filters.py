"""Hard constraints of a parsed query, and caller-given filters, as index pre-filters."""

from __future__ import annotations

from typing import Any

from vitrina.catalog.sizes import is_size
from vitrina.catalog.stats import CatalogStats
from vitrina.index.protocol import FILTER_FIELDS, FilterError, FilterSpec, Flag, Match, Range
from vitrina.understand.models import ParsedQuery


def query_filters(parsed: ParsedQuery, stats: CatalogStats) -> tuple[FilterSpec, FilterSpec]:
    """(hard, relaxable): explicit price, gender and negations are hard; "cheap" and a size relax."""
    hard, soft = FilterSpec(), FilterSpec()
    price = parsed.price
    if price and (price.catalog_min is not None or price.catalog_max is not None):
        target = hard if price.hard else soft
        target.must.append(Range(field="price", gte=price.catalog_min, lte=price.catalog_max))
    hard_fields: dict[str, set[str]] = {}
    for c in parsed.constraints:  # gender: a catalog without genders is not filtered on them
        if c.prefilters(stats.values):
            hard_fields.setdefault(c.field, set()).update(c.values)
    for field, values in hard_fields.items():
        hard.must.append(Match(field=field, values=sorted(values)))
    for c in parsed.negated():
        if c.values:
            hard.must_not.append(Match(field=c.field, values=list(c.values)))
    if parsed.references:
        # "the second one in white": the attribute the shopper changes is the point of the request; products
        # without it come only when none have it.
        for c in parsed.constraints:
            if not c.negated and not c.implied and c.replaces and not c.hard and c.values:
                soft.must.append(Match(field=c.field, values=list(c.values)))
    for c in parsed.constraints:
        if c.narrows(stats.values):  # "panties": women's first; the rest only when too few are
            soft.must.append(Match(field=c.field, values=list(c.values)))
    offered = stats.values.get("sizes", {})
    sizes = sorted(label for label in offered if is_size(parsed.sizes, label)) if parsed.sizes else []
    if sizes:  # products made in the size first; others only when too few are
        soft.must.append(Match(field="sizes", values=sizes))
    return hard, soft


def caller_filters(filters: dict[str, Any] | None) -> FilterSpec:
    """{"brand": "nike", "colors": ["black", "white"], "price": {"gte": 10, "lte": 50}, "in_stock": true}."""
    spec = FilterSpec()
    for name, value in (filters or {}).items():
        field = FILTER_FIELDS.get(name)
        if field is None:
            raise FilterError(f"cannot filter on {name!r}; filterable fields: {', '.join(sorted(FILTER_FIELDS))}")
        if field.kind == "bool":
            if not isinstance(value, bool):
                raise FilterError(f"filter {name!r}: expected true or false, got {value!r}")
            spec.must.append(Flag(field=name, value=value))
        elif field.kind == "float":
            spec.must.append(_range(name, value))
        else:
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
                raise FilterError(f"filter {name!r}: expected a value or a list of values, got {value!r}")
            spec.must.append(Match(field=name, values=[str(v).lower() for v in values]))
    return spec


def _range(name: str, value: Any) -> Range:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Range(field=name, gte=value, lte=value)
    if not isinstance(value, dict) or not value or set(value) - {"gte", "lte"}:
        raise FilterError(f"filter {name!r}: expected a number or a range like {{\"gte\": 10, \"lte\": 50}}")
    for key, bound in value.items():
        if bound is not None and (not isinstance(bound, (int, float)) or isinstance(bound, bool)):
            raise FilterError(f"filter {name!r}: {key} must be a number, got {bound!r}")
    return Range(field=name, gte=value.get("gte"), lte=value.get("lte"))
