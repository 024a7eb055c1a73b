"""Per-product signals: constraint fit (penalties as the seed's table), metadata fit, quality."""

from __future__ import annotations

from vitrina.understand.models import ParsedQuery

# Subtractive penalties for a missed positive constraint; occasion and style data is too sparse to punish.
PENALTIES = {"colors": 0.20, "materials": 0.15, "patterns": 0.15, "fits": 0.10, "lengths": 0.10, "sleeves": 0.15,
             "brands": 0.30, "styles": 0.05, "occasions": 0.0, "seasons": 0.0}
OVER_BUDGET = 0.30
UNDER_MINIMUM = 0.10
SOFT_VOCABULARIES = ("occasions", "seasons", "styles")

FIELD_OF = {"colors": "colors", "materials": "materials", "pattern": "pattern", "fit": "fit", "length": "length",
            "sleeve": "sleeve", "brand": "brand", "style": "style_tags", "occasions": "occasions",
            "seasons": "seasons", "gender": "gender", "type": "product_type"}


def product_values(product: dict, field: str) -> list[str]:
    value = product.get(FIELD_OF.get(field, field))
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() for v in values]


def constraint_score(product: dict, parsed: ParsedQuery) -> tuple[float, list[str], list[str]]:
    score, matches, penalties = 1.0, [], []
    for c in parsed.constraints:
        if c.negated or c.vocabulary in ("genders",) or c.vocabulary not in PENALTIES:
            continue
        have = product_values(product, c.field)
        allowed = set(c.values)
        if c.vocabulary == "colors":
            if have and have[0] in allowed:
                matches.append(f"colour: {have[0]}")
                continue
            if any(v in allowed for v in have[1:]):
                score -= PENALTIES["colors"] / 2
                penalties.append(f"{c.term} is only a secondary colour")
                continue
        elif any(v in allowed for v in have):
            matches.append(f"{c.vocabulary.rstrip('s')}: {c.term}")
            continue
        penalty = PENALTIES[c.vocabulary] * (0.5 if c.implied else 1.0)
        if penalty:
            score -= penalty
            penalties.append(f"not {c.term}" + (f" ({', '.join(have[:2])})" if have else " (unknown)"))
    price = product.get("price")
    rng = parsed.price
    if rng and price is not None:
        if rng.catalog_max is not None and price > rng.catalog_max:
            score -= OVER_BUDGET
            penalties.append(f"above budget ({price:g} > {rng.catalog_max:g})")
        elif rng.catalog_min is not None and price < rng.catalog_min:
            score -= UNDER_MINIMUM
            penalties.append(f"below minimum price ({price:g} < {rng.catalog_min:g})")
        elif rng.catalog_max is not None or rng.catalog_min is not None:
            matches.append("within budget")
    return max(0.0, score), matches, penalties


def metadata_score(product: dict, parsed: ParsedQuery) -> tuple[float, list[str], list[str]]:
    """Product type fit first (the most important fact about a hit), then soft attributes."""
    matches, penalties = [], []
    ptype = (product.get("product_type") or "").lower()
    if parsed.types:
        type_fit = parsed.types.get(ptype, 0.0)
        if type_fit:
            matches.append(f"type: {product.get('product_type')}" + ("" if type_fit >= 1 else " (related)"))
        else:
            penalties.append(f"type {product.get('product_type') or 'unknown'} was not asked for")
    else:
        type_fit = 0.5
    soft = [c for c in parsed.constraints if c.vocabulary in SOFT_VOCABULARIES and not c.negated]
    if soft:
        hit = 0.0
        for c in soft:
            if set(product_values(product, c.field)) & set(c.values):
                hit += 1
                matches.append(f"{c.vocabulary.rstrip('s')}: {c.term}")
        attr_fit = hit / len(soft)
    else:
        attr_fit = 0.5
    return 0.65 * type_fit + 0.35 * attr_fit, matches, penalties


def quality_score(product: dict) -> float:
    rating, reviews = product.get("rating"), product.get("review_count") or 0
    if not rating:
        return 0.5
    score = (rating - 1) / 4 * 0.7
    score += 0.2 if reviews >= 100 else 0.15 if reviews >= 50 else 0.1 if reviews >= 20 else 0.0
    return min(1.0, score)
