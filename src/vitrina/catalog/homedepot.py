"""The Home Depot products file: an id and a title per line, no price."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from vitrina.catalog.clean import clean_text
from vitrina.catalog.feeds import RawRow, Record, map_each, read_jsonl, register


@register("homedepot")
class HomeDepotFeed:
    name = "homedepot"

    def rows(self, path: Path) -> Iterator[RawRow]:
        return self.map_records(read_jsonl(Path(path)))

    def map_records(self, records: Iterable[Record]) -> Iterator[RawRow]:
        return map_each(records, _fields, id_field="product_uid")


def _fields(record: dict) -> dict:
    return {"id": str(record.get("product_uid", "")).strip(), "title": clean_text(record.get("title")) or "",
            "currency": "USD"}
