"""Row-by-row validation: a bad row is reported (row, field, reason) and skipped; the rest land."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel, Field, ValidationError

from vitrina.catalog.feeds import RawRow
from vitrina.catalog.product import Product


class RowError(BaseModel):
    row: int
    product_id: str | None = None
    field: str
    reason: str

    def __str__(self) -> str:
        who = f" (id {self.product_id})" if self.product_id else ""
        return f"row {self.row}{who}: {self.field}: {self.reason}"


class IngestReport(BaseModel):
    rows: int = 0
    upserted: int = 0
    deleted: int = 0
    rejected: list[RowError] = Field(default_factory=list)
    embedded: int = 0  # texts sent to the encoder (cache misses)
    vectors_later: int = 0  # products published without a vector yet (ingest with vectors="later")
    seconds: float = 0.0
    encode_seconds: float = 0.0  # in the encoder and its cache
    publish_seconds: float = 0.0  # building the HNSW graph, flushing, statistics, the atomic switch

    @property
    def ok(self) -> bool:
        return not self.rejected


def errors_of(row: int, product_id: str | None, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "record"
        out.append(RowError(row=row, product_id=product_id, field=field, reason=err["msg"]))
    return out


def validate_rows(rows: Iterable[RawRow]) -> Iterator[Product | RowError]:
    """Products for valid rows, one RowError per problem for the rest; duplicate ids are errors too."""
    seen: dict[str, int] = {}
    for raw in rows:
        product_id = str(raw.fields.get("id") or "") or None
        if raw.error:
            yield RowError(row=raw.row, product_id=product_id, field=raw.error_field, reason=raw.error)
            continue
        try:
            product = Product.model_validate(raw.fields)
        except ValidationError as exc:
            yield from errors_of(raw.row, product_id, exc)
            continue
        if product.id in seen:
            yield RowError(row=raw.row, product_id=product.id, field="id",
                           reason=f"duplicate id, first seen at row {seen[product.id]}")
            continue
        seen[product.id] = raw.row
        yield product
