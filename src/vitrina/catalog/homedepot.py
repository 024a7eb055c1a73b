"""The Home Depot products file: an id and a title per line, no price."""

from __future__ import annotations

from vitrina.catalog.clean import clean_text
from vitrina.catalog.feeds import RecordFeed


def map_record(record: dict) -> dict:
    return {"id": str(record.get("product_uid", "")).strip(), "title": clean_text(record.get("title")) or "",
            "currency": "USD"}


FEED = RecordFeed("homedepot", map_record, id_field="product_uid")
