"""The texts a product is found by: a rich natural-language text for the encoder, a keyword text for BM25.

Attributes become words a shopper would type ("warm winter", "office appropriate professional"),
identity comes first because small encoders weigh early tokens most.
"""

from __future__ import annotations

from vitrina.catalog.product import Product

WARMTH = {1: "lightweight summer", 2: "light layering piece", 3: "moderate warmth", 4: "warm winter",
          5: "heavy winter extreme warmth"}
FORMALITY = {"casual": "casual everyday wear", "smart_casual": "smart casual dressed up",
             "business_casual": "office appropriate professional", "formal": "formal dressy elegant office wear"}
AUDIENCE = {"men": "for men", "women": "for women", "unisex": "unisex for men and women", "boys": "for boys kids",
            "girls": "for girls kids"}
MAX_DESCRIPTION_WORDS = 40


def _join(values: list[str]) -> str:
    return ", ".join(v for v in values if v)


def embedding_text(product: Product) -> str:
    parts: list[str] = [product.title]
    kind = product.category or ""
    parts.append(" ".join(x for x in (product.brand, kind) if x))
    if product.gender:
        parts.append(AUDIENCE.get(product.gender, product.gender))
    if product.colors:
        parts.append(f"colour: {_join(product.colors)}")
    if product.pattern and product.pattern.lower() != "solid":
        parts.append(f"pattern: {product.pattern}")
    if product.materials:
        parts.append(f"made of {_join(product.materials)}")
    if product.style_tags:
        parts.append(f"style: {_join(product.style_tags)}")
    if product.occasions:
        parts.append(f"for {_join(product.occasions)}")
    if product.warmth:
        parts.append(WARMTH[product.warmth])
    if product.fit:
        parts.append(product.fit if "fit" in product.fit.lower() else f"{product.fit} fit")
    if product.length:
        parts.append(f"{product.length} length")
    if product.sleeve:
        parts.append(product.sleeve)
    if product.formality:
        parts.append(FORMALITY.get(product.formality, product.formality))
    if product.seasons:
        parts.append(f"season: {_join(product.seasons)}")
    if product.features:
        parts.append(f"features: {_join(product.features)}")
    if product.search_keywords:
        parts.append(" ".join(product.search_keywords))
    if product.description:
        parts.append(" ".join(product.description.split()[:MAX_DESCRIPTION_WORDS]))
    return ". ".join(p for p in parts if p)


def keyword_text(product: Product) -> str:
    """What BM25 indexes: the title and the structured words, not the long description.

    Descriptions are mostly wash-care boilerplate in real feeds; they add noise to term statistics.
    """
    fields = [product.title, product.brand or "", " ".join(product.category_path), product.product_type or "",
              " ".join(product.colors), product.pattern or "", " ".join(product.materials), product.fit or "",
              product.length or "", product.sleeve or "", " ".join(product.style_tags), " ".join(product.occasions),
              " ".join(product.features), " ".join(product.search_keywords)]
    return " ".join(f for f in fields if f)
