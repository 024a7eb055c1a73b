"""A Product as the index stores it: filter fields (index/protocol.py's table), texts for BM25, the product."""

from __future__ import annotations

import numpy as np

from vitrina.catalog.embedding_text import keyword_text
from vitrina.catalog.product import Product
from vitrina.index.protocol import FILTER_FIELDS, IndexDoc, field_values

INDEX_FORMAT = 9  # raised whenever the stored fields or statistics change: cached indexes of an older format are rebuilt
LIST_KINDS = {"category", "colors", "materials", "occasions", "seasons", "style", "features", "sizes",
              "available_sizes"}


def index_doc(product: Product, vector: np.ndarray | None) -> IndexDoc:
    record = product.model_dump(mode="json")
    fields: dict = {}
    for name in FILTER_FIELDS:
        values = field_values(record, name)
        fields[name] = values if name in LIST_KINDS else (values[0] if values else None)
    # Display forms and currency, for the catalog statistics (index/store.py).
    fields.update(display_type=product.product_type, display_brand=product.brand, currency=product.currency)
    # Built from a validated Product: constructed without validating 384 floats again.
    listed = np.asarray(vector, dtype=np.float32).tolist() if vector is not None else None
    return IndexDoc.model_construct(id=product.id, vector=listed,
                                    text=keyword_text(product), fields=fields, product=record)
