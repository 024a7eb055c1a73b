"""Feed adapters: read a vendor file row by row and map each row onto Product fields.

An adapter never validates; it maps. `catalog.validate` turns the mapped rows into Products or
row errors, so every feed gets the same report.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vitrina.catalog.clean import clean_list, clean_text, html_to_text, is_missing, parse_number

LIST_FIELDS = {
    "category_path", "images", "sizes", "available_sizes", "colors", "materials", "style_tags",
    "occasions", "seasons", "features", "search_keywords",
}
NUMBER_FIELDS = {"price", "original_price", "rating"}
INT_FIELDS = {"review_count", "warmth"}


@dataclass
class RawRow:
    row: int  # 1-based position in the feed (data rows, header excluded)
    fields: dict[str, Any]  # mapped onto Product field names, not yet validated
    error: str | None = None  # why the row could not be mapped
    error_field: str = "record"  # which field that was about


# (row number, the record or None, why it could not be read)
Record = tuple[int, dict | None, str | None]


class FieldError(ValueError):
    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


class Feed(Protocol):
    name: str

    def rows(self, path: Path) -> Iterator[RawRow]: ...

    def map_records(self, records: Iterable[Record]) -> Iterator[RawRow]: ...


def open_text(path: Path) -> io.TextIOBase:
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8", newline="")


def jsonl_records(lines: Iterable[str]) -> Iterator[Record]:
    """Records of JSON lines, numbered from 1 over non-blank lines; a bad line becomes an error, not an exception."""
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON: {exc.msg} at column {exc.colno}"
            continue
        if not isinstance(record, dict):
            yield number, None, "a row must be a JSON object"
            continue
        yield number, record, None


def map_each(records: Iterable[Record], map_one: Callable[[dict], dict[str, Any]],
             id_field: str = "id") -> Iterator[RawRow]:
    """RawRows from records: unreadable ones keep their reason; a mapping error names its field when it can."""
    for number, record, error in records:
        if record is None:
            yield RawRow(number, {}, error)
            continue
        try:
            yield RawRow(number, map_one(record))
        except FieldError as exc:
            yield RawRow(number, {"id": str(record.get(id_field, ""))}, exc.reason, exc.field)
        except ValueError as exc:
            yield RawRow(number, {"id": str(record.get(id_field, ""))}, str(exc))


def read_jsonl(path: Path) -> Iterator[Record]:
    with open_text(path) as handle:
        yield from jsonl_records(handle)


def read_records(path: Path) -> Iterator[Record]:
    """Rows of a JSONL, CSV/TSV or Parquet file (optionally gzipped), numbered from 1."""
    name = str(path).lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        yield from read_jsonl(path)
    elif name.endswith((".csv", ".tsv")):
        with open_text(path) as handle:
            reader = csv.DictReader(handle, delimiter="\t" if name.endswith(".tsv") else ",")
            for number, record in enumerate(reader, start=1):
                if None in record:
                    yield number, None, f"{len(record[None])} more values than columns"
                    continue
                yield number, dict(record), None
    elif name.endswith(".parquet"):
        import pyarrow.parquet as pq

        number = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                number += 1
                yield number, record, None
    else:
        raise ValueError(f"unknown feed format for {path}: use .jsonl, .csv, .tsv or .parquet")


def coerce(field_name: str, value: Any, list_separator: str = "|") -> Any:
    """Map a raw cell onto the type a Product field expects, raising FieldError when it can't."""
    if field_name in LIST_FIELDS:
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise FieldError(field_name, f"not a valid JSON list: {exc.msg}") from exc
        return clean_list(value, split=list_separator)
    if field_name in NUMBER_FIELDS or field_name in INT_FIELDS:
        try:
            number = parse_number(value)
        except ValueError as exc:
            raise FieldError(field_name, str(exc)) from exc
        if number is not None and field_name in INT_FIELDS:
            if number != int(number):
                raise FieldError(field_name, f"expected a whole number, got {value!r}")
            return int(number)
        return number
    if field_name == "attributes":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise FieldError(field_name, f"not a valid JSON object: {exc.msg}") from exc
        if is_missing(value):
            return {}
        if not isinstance(value, dict):
            raise FieldError(field_name, "expected an object of name -> value")
        return {str(k): clean_text(v) for k, v in value.items() if clean_text(v)}
    if field_name == "description":
        return html_to_text(value)
    if field_name == "id":
        return clean_text(value)
    return clean_text(value) if isinstance(value, str) or is_missing(value) else value


@dataclass
class TabularFeed:
    """JSONL, CSV or Parquet whose columns map onto Product fields.

    `mapping` is product field -> source column; fields not named map from a column of the
    same name. Columns that map nowhere land in `attributes` when `keep_unmapped` is set.
    """

    mapping: dict[str, str] = field(default_factory=dict)
    list_separator: str = "|"
    keep_unmapped: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)
    name: str = "tabular"

    def rows(self, path: Path) -> Iterator[RawRow]:
        return self.map_records(read_records(path))

    def map_records(self, records: Iterable[Record]) -> Iterator[RawRow]:
        from vitrina.catalog.product import Product

        known = set(Product.model_fields)
        source_of = {name: self.mapping.get(name, name) for name in known}
        used = set(source_of.values())
        for number, record, error in records:
            if record is None:
                yield RawRow(number, {}, error)
                continue
            fields: dict[str, Any] = dict(self.defaults)
            try:
                for name, column in source_of.items():
                    if column in record and not (is_missing(record[column]) and name in self.defaults):
                        fields[name] = coerce(name, record[column], self.list_separator)
                if self.keep_unmapped:
                    extra = {k: v for k, v in record.items() if k not in used}
                    if extra:
                        fields["attributes"] = {**coerce("attributes", extra), **fields.get("attributes", {})}
            except FieldError as exc:
                yield RawRow(number, {"id": clean_text(record.get(source_of["id"]))}, exc.reason, exc.field)
                continue
            yield RawRow(number, _drop_none(fields))


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@dataclass
class RecordFeed:
    """A JSON lines feed whose records a function maps onto Product fields (the vendor adapters)."""

    name: str
    map_one: Callable[[dict], dict[str, Any]]
    id_field: str = "id"

    def rows(self, path: Path) -> Iterator[RawRow]:
        return self.map_records(read_jsonl(Path(path)))

    def map_records(self, records: Iterable[Record]) -> Iterator[RawRow]:
        return map_each(records, self.map_one, self.id_field)
