"""What retrieval and ranking need from an index. A distributed backend implements the same protocol."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

# Payload fields every backend indexes for filtering and facets (lower-cased values).
KEYWORD_FIELDS = ("type", "brand", "gender", "age_group", "colors", "primary_color", "materials", "pattern", "fit",
                  "length", "sleeve", "occasions", "seasons", "style", "category")
FLOAT_FIELDS = ("price", "rating")
BOOL_FIELDS = ("in_stock",)


class Match(BaseModel):
    field: str
    values: list[str]


class Range(BaseModel):
    field: str
    gte: float | None = None
    lte: float | None = None


class FilterSpec(BaseModel):
    """Conjunction of `must` conditions, none of `must_not` may hold."""

    must: list[Match | Range] = Field(default_factory=list)
    must_not: list[Match] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.must and not self.must_not

    def and_(self, other: FilterSpec | None) -> FilterSpec:
        if other is None:
            return self
        return FilterSpec(must=[*self.must, *other.must], must_not=[*self.must_not, *other.must_not])


class IndexDoc(BaseModel):
    """One product as the index stores it."""

    id: str
    vector: list[float]
    text: str  # BM25 field
    fields: dict[str, list[str] | str | float | bool | None]  # filter/facet fields
    product: dict  # the full Product, returned with hits


class Scored(BaseModel):
    id: str
    score: float


class ProductIndex(Protocol):
    def upsert(self, docs: list[IndexDoc]) -> None: ...

    def delete(self, ids: list[str]) -> None: ...

    def bm25(self, text: str, k: int, where: FilterSpec | None = None) -> list[Scored]: ...

    def knn(self, vector: np.ndarray, k: int, where: FilterSpec | None = None) -> list[Scored]: ...

    def get(self, ids: list[str], with_vectors: bool | set[str] = False) -> dict[str, tuple[dict, np.ndarray | None]]:
        """Product records by id, with their vectors for all (True) or for the ids in a set."""
        ...

    def count(self, where: FilterSpec | None = None) -> int: ...

    def facet(self, field: str, where: FilterSpec | None = None, limit: int = 20) -> list[tuple[str, int]]: ...

    def scan(self, fields: list[str], batch: int = 2048): ...

    def flush(self) -> None: ...

    def optimize(self) -> None: ...

    def close(self) -> None: ...
