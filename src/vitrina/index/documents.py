"""A Product as the index stores it: filter fields lower-cased, texts for BM25, the product itself."""

from __future__ import annotations

import numpy as np

from vitrina.catalog.embedding_text import keyword_text
from vitrina.catalog.product import Product
from vitrina.index.protocol import IndexDoc


def _lower(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.lower() for v in values if v))


def index_doc(product: Product, vector: np.ndarray) -> IndexDoc:
    p = product
    fields = {
        "type": p.product_type.lower() if p.product_type else None,
        "display_type": p.product_type,
        "category": _lower(p.category_path),
        "brand": p.brand.lower() if p.brand else None,
        "display_brand": p.brand,
        "gender": p.gender,
        "age_group": p.age_group,
        "colors": _lower(p.colors),
        "primary_color": p.primary_color.lower() if p.primary_color else None,
        "materials": _lower(p.materials),
        "pattern": p.pattern.lower() if p.pattern else None,
        "fit": p.fit.lower() if p.fit else None,
        "length": p.length.lower() if p.length else None,
        "sleeve": p.sleeve.lower() if p.sleeve else None,
        "occasions": _lower(p.occasions),
        "seasons": _lower(p.seasons),
        "style": _lower(p.style_tags),
        "price": p.price,
        "currency": p.currency,
        "rating": p.rating,
        "in_stock": p.availability == "in_stock",
    }
    return IndexDoc(id=p.id, vector=[float(x) for x in vector], text=keyword_text(p), fields=fields,
                    product=p.model_dump(mode="json"))
