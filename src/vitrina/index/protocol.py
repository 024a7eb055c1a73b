"""The index contract: what retrieval and ranking need from an index, whatever engine holds it.

Every backend (index/edge.py: Qdrant Edge, embedded; index/memory.py: the in-memory reference) implements
ProductIndex with these semantics, and tests/test_index_contract.py runs the same suite against each.

Documents
- A product is stored as an IndexDoc: its id, a text vector, optionally an image vector (the photo's, in the same
  space: SPACES), a BM25 text, filter fields and the product record.
- `upsert` replaces a document whole when its id exists (no partial merge); `delete` of an unknown id is a no-op.
- Writes become durable with `commit()`; a backend may also need it before searches see the writes at full speed.

Filters (FilterSpec; FilterSpec.matches is the reference implementation)
- Filter fields are the names in FILTER_FIELDS. Keyword values are lower-case strings, compared exactly.
- `must` is a conjunction. Match(field, values) holds when the field has any of the values (for a list field:
  any element). Range(field, gte, lte) holds when the number lies within, bounds included. Flag(field, value)
  holds when the boolean equals value. A missing field satisfies none of them.
- `must_not` holds when none of its Match conditions holds; a missing field satisfies must_not.
- A condition on a field that is not in FILTER_FIELDS raises FilterError.

Searches
- bm25(text, k, where) and knn(vector, k, where) return at most k Scored (id, score), best first, only documents
  that pass `where`. bm25 returns only documents sharing a (stemmed) word with the text; an empty text gives [].
  knn scores are cosine similarities; a vector of the wrong dimension raises DimensionError. knn(space="image")
  searches the photos' vectors: only documents that have one.
- get(ids) returns the records of the known ids (unknown ones left out), with vectors where asked.
- count(where) and facet(field, where, limit) count documents; facet gives (value, count), most frequent first,
  ties by value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
from pydantic import BaseModel, Field

FieldKind = Literal["keyword", "float", "bool"]
Space = Literal["text", "image"]  # a document's vectors: its text's, and its photo's (same space and dimension)
SPACES: tuple[Space, ...] = ("text", "image")


class FieldSource(NamedTuple):
    """Where a filter field comes from in a product record, and its kind (a tuple: read 20 times a product)."""

    source: str  # the Product field
    kind: FieldKind = "keyword"


# The one table of filter fields: product record -> index payload -> filters, facets and hard re-checks.
FILTER_FIELDS: dict[str, FieldSource] = {
    "type": FieldSource("product_type"),
    "category": FieldSource("category_path"),
    "brand": FieldSource("brand"),
    "gender": FieldSource("gender"),
    "age_group": FieldSource("age_group"),
    "colors": FieldSource("colors"),
    "primary_color": FieldSource("primary_color"),
    "materials": FieldSource("materials"),
    "pattern": FieldSource("pattern"),
    "fit": FieldSource("fit"),
    "length": FieldSource("length"),
    "sleeve": FieldSource("sleeve"),
    "occasions": FieldSource("occasions"),
    "seasons": FieldSource("seasons"),
    "style": FieldSource("style_tags"),
    "features": FieldSource("features"),  # a shoe's fastening, water resistance: negations of them filter
    "sizes": FieldSource("sizes"),
    "available_sizes": FieldSource("available_sizes"),
    "price": FieldSource("price", "float"),
    "rating": FieldSource("rating", "float"),
    "in_stock": FieldSource("availability", "bool"),
}
KEYWORD_FIELDS = tuple(name for name, f in FILTER_FIELDS.items() if f.kind == "keyword")
FLOAT_FIELDS = tuple(name for name, f in FILTER_FIELDS.items() if f.kind == "float")
BOOL_FIELDS = tuple(name for name, f in FILTER_FIELDS.items() if f.kind == "bool")


class FilterError(ValueError):
    """A filter names an unknown field or gives a value of the wrong kind."""


class DimensionError(ValueError):
    """A vector of another dimension than the index holds."""


def field_values(product: Mapping[str, Any], name: str) -> list[Any]:
    """A filter field's values for a product record: keywords lower-cased, in_stock from availability."""
    spec = FILTER_FIELDS[name]
    value = product.get(spec.source)
    if spec.kind == "bool":
        return [value == "in_stock"]
    if value is None or value == "" or value == []:
        return []
    if spec.kind == "float":
        return [float(value)]
    if not isinstance(value, list):  # the common case, kept cheap: ingest calls this 20 times a product
        return [str(value).lower()]
    return list(dict.fromkeys(str(v).lower() for v in value if v))


class Match(BaseModel):
    """The field holds any of the values."""
    field: str
    values: list[str]


class Range(BaseModel):
    """The number lies within the bounds (included)."""
    field: str
    gte: float | None = None
    lte: float | None = None


class Flag(BaseModel):
    """The boolean equals value."""
    field: str
    value: bool


Condition = Match | Range | Flag


def _holds(condition: Condition, values: list[Any]) -> bool:
    if isinstance(condition, Match):
        return any(v in condition.values for v in values)
    if isinstance(condition, Flag):
        return condition.value in values
    return any((condition.gte is None or v >= condition.gte) and (condition.lte is None or v <= condition.lte)
               for v in values)


class FilterSpec(BaseModel):
    """Conjunction of `must` conditions; none of `must_not` may hold."""

    must: list[Condition] = Field(default_factory=list)
    must_not: list[Match] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.must and not self.must_not

    def and_(self, other: FilterSpec | None) -> FilterSpec:
        if other is None:
            return self
        return FilterSpec(must=[*self.must, *other.must], must_not=[*self.must_not, *other.must_not])

    def check_fields(self) -> FilterSpec:
        """Raises FilterError for a condition on a field that is not filterable."""
        for c in [*self.must, *self.must_not]:
            if c.field not in FILTER_FIELDS:
                raise FilterError(f"cannot filter on {c.field!r}; filterable fields: {', '.join(sorted(FILTER_FIELDS))}")
        return self

    def violation(self, values: Callable[[str], list[Any]]) -> Condition | None:
        """The first condition a document breaks (`values(field)` gives its values), or None if it passes."""
        for c in self.must:
            if not _holds(c, values(c.field)):
                return c
        for m in self.must_not:
            if _holds(m, values(m.field)):
                return m
        return None

    def matches(self, values: Callable[[str], list[Any]]) -> bool:
        return self.violation(values) is None


class IndexDoc(BaseModel):
    """One product as the index stores it."""

    id: str
    vector: list[float] | None  # None: searchable by words and filters now, its vector set later (set_vectors)
    image_vector: list[float] | None = None  # its photo's vector, where it has a photo
    text: str  # BM25 field
    fields: dict[str, list[str] | str | float | bool | None]  # filter fields, plus display names for statistics
    product: dict  # the full Product, returned with hits


class Scored(BaseModel):
    id: str
    score: float


class ProductIndex(Protocol):
    """One index generation, open for reads and (until published) writes. See the module docstring."""

    def upsert(self, docs: list[IndexDoc]) -> None:
        """Insert or wholly replace documents by id."""

    def delete(self, ids: list[str]) -> None:
        """Remove documents; unknown ids are ignored."""

    def bm25(self, text: str, k: int, where: FilterSpec | None = None) -> list[Scored]:
        """Documents sharing words with `text`, best BM25 score first."""
        ...

    def knn(self, vector: np.ndarray, k: int, where: FilterSpec | None = None, space: Space = "text") -> list[Scored]:
        """Nearest documents by cosine in a space, best first (approximate where the backend says so)."""
        ...

    def get(self, ids: list[str], with_vectors: bool | set[str] = False,
            space: Space = "text") -> dict[str, tuple[dict, np.ndarray | None]]:
        """Product records by id, with their vectors of a space for all (True) or for the ids in a set."""
        ...

    def cosines(self, vector: np.ndarray, ids: list[str], space: Space = "text") -> dict[str, float]:
        """The cosine of `vector` with each document's vector of a space (documents without one left out)."""
        ...

    def count(self, where: FilterSpec | None = None) -> int:
        """Documents passing `where` (all when None)."""
        ...

    def facet(self, field: str, where: FilterSpec | None = None, limit: int = 20) -> list[tuple[str, int]]:
        """(value, documents) of a keyword field, most frequent first, ties by value."""
        ...

    def facets(self, fields: list[str], where: FilterSpec | None = None,
               limit: int = 20) -> dict[str, list[tuple[str, int]]]:
        """`facet` of each field, in fewer passes where the backend can."""
        ...

    def payloads(self, fields: list[str]) -> Iterator[dict]:
        """Every document's stored fields (filter fields, display names, text), restricted to `fields`."""
        ...

    def ids(self) -> Iterator[str]:
        """Every document's id, in no promised order."""
        ...

    def set_vectors(self, vectors: dict[str, np.ndarray], space: Space = "text") -> None:
        """Give documents their vectors of a space (or new ones); unknown ids are ignored."""

    def count_vectors(self, space: Space) -> int:
        """How many documents have a vector of that space."""
        ...

    def missing_vectors(self, limit: int) -> list[str]:
        """Up to `limit` ids of documents without a vector yet (knn cannot find them)."""
        ...

    def count_missing_vectors(self) -> int:
        """How many documents have no vector yet."""
        ...

    def commit(self) -> None:
        """Make the writes durable and the index ready to search at full speed."""

    def close(self) -> None:
        """Release files and threads; the object is unusable afterwards."""


class IndexBackend(Protocol):
    """Creates, opens and copies index generations in directories (index/store.py manages the generations)."""

    name: str

    def create(self, path: Path, dimension: int) -> ProductIndex: ...

    def open(self, path: Path, dimension: int) -> ProductIndex: ...

    def copy(self, source: Path, target: Path) -> None:
        """A writable copy of a published generation."""
