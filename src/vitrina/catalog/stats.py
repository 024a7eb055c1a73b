"""What the catalog itself says: its taxonomy, brands, values, words and price distribution.

Computed when an index generation is published (index/store.py) and read by understanding and retrieval.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


class CatalogStats(BaseModel):
    count: int = 0
    currency: str | None = None
    values: dict[str, dict[str, int]] = Field(default_factory=dict)  # field -> lower-cased value -> count
    names: dict[str, str] = Field(default_factory=dict)  # lower-cased type/brand -> display form
    price_quantiles: dict[str, list[float]] = Field(default_factory=dict)  # type ("*" = all) -> QUANTILES
    words: dict[str, int] = Field(default_factory=dict)  # word of the catalog's texts -> products using it

    def quantile(self, q: float, product_type: str | None = None) -> float | None:
        row = self.price_quantiles.get(product_type or "*") or self.price_quantiles.get("*")
        if not row:
            return None
        return row[QUANTILES.index(q)] if q in QUANTILES else float(np.interp(q, QUANTILES, row))
