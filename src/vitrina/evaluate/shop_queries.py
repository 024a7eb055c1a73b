"""A fashion shop's own search traffic, written from its catalog: what simulated shoppers search when a tenant
model is trained from their events, kept apart from the dev queries it is then scored on.

Each query comes from a product drawn at random (so common types and colours are searched more, as in a shop),
in one of a few shapes a shopper types ("black jeans for men", "nike sports shoes", "casual shirts for women"),
with a spec in the fashion set's judge format (judge.py grades it like any dev query: the type asked for, the
gender as a hard constraint, the colour, brand or use as a soft one).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

GENDER_WORDS = {"Men": "men", "Women": "women", "Boys": "boys", "Girls": "girls"}  # Unisex: no gender asked
MISSING = {"", "na", "n/a", "none", "null"}


def _value(product: dict, name: str) -> str | None:
    value = product.get(name)
    if not isinstance(value, str) or value.strip().lower() in MISSING:
        return None
    return value.strip()


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _shape(product: dict, shape: str) -> tuple[str, dict] | None:
    """(query text, judge spec) of one shape for one product, or None when the product lacks a field it needs."""
    kind = _value(product, "articleType")
    if kind is None:
        return None
    judge: dict = {"articleType": {kind: 2}}
    gender = _value(product, "gender")
    who = GENDER_WORDS.get(gender or "")
    if shape == "brand":
        brand = _value(product, "brandName")
        if brand is None:
            return None
        judge["attrs"] = {"brandName": [brand]}
        return f"{brand.lower()} {kind.lower()}", judge
    if who is None:
        return None
    judge["gender"] = [gender, "Unisex"]
    if shape == "gender":
        return f"{kind.lower()} for {who}", judge
    field = {"colour": "baseColour", "usage": "usage"}[shape]
    value = _value(product, field)
    if value is None:
        return None
    judge["attrs"] = {field: [value]}
    return f"{value.lower()} {kind.lower()} for {who}", judge


SHAPES = ("colour", "colour", "brand", "usage", "gender")  # colour twice: the commonest thing shoppers add


def fashion_shop_queries(products: Iterable[dict], count: int, seed: int, exclude: Iterable[str] = ()) -> list[dict]:
    """`count` distinct queries in the dev.jsonl format (ids shop0001...), none whose words equal a text in
    `exclude` (the dev queries' turns). Seeded: the same catalog and seed give the same queries."""
    catalog = sorted((p for p in products if p.get("id") is not None), key=lambda p: str(p["id"]))
    if not catalog:
        raise ValueError("the catalog has no products to write queries from")
    rng = random.Random(f"shop-queries:{seed}")
    banned = {_normal(text) for text in exclude}
    seen: set[str] = set()
    out: list[dict] = []
    for _ in range(count * 50):  # draws that give nothing new are skipped; a small catalog runs out of queries
        if len(out) == count:
            break
        made = _shape(rng.choice(catalog), rng.choice(SHAPES))
        if made is None:
            continue
        text, judge = made
        key = _normal(text)
        if key in seen or key in banned:
            continue
        seen.add(key)
        out.append({"id": f"shop{len(out) + 1:04d}", "category": "shop", "turns": [text], "judge": judge})
    return out
