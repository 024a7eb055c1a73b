"""H&M's articles.csv (the Kaggle personalisation set): one article per colour variant, no price, no brand (all
H&M). Department names say who it is for: Ladies/Women -> women, Men -> men, Baby/Children/Kids -> kids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vitrina.catalog.clean import clean_text
from vitrina.catalog.feeds import RawRow, Record, map_each, read_records


def _audience(record: dict) -> tuple[str | None, str | None]:
    """(gender, age group) from the index names H&M files an article under."""
    names = f"{record.get('index_name', '')} {record.get('index_group_name', '')}".lower()
    if any(w in names for w in ("baby", "children", "kids")):
        return None, "kids"
    if "ladies" in names or "women" in names or "lingeries" in names:
        return "women", "adult"
    if "men" in names:
        return "men", "adult"
    return None, None


def map_record(record: dict) -> dict:
    gender, age = _audience(record)
    kind = clean_text(record.get("product_type_name"))
    group = clean_text(record.get("product_group_name"))
    colour = clean_text(record.get("colour_group_name"))
    return {"id": str(record.get("article_id", "")).strip(), "title": clean_text(record.get("prod_name")) or "",
            "description": clean_text(record.get("detail_desc")) or "",
            "product_type": kind, "category_path": [c for c in (group, kind) if c],
            "colors": [colour] if colour else [], "primary_color": colour, "pattern":
            clean_text(record.get("graphical_appearance_name")), "gender": gender, "age_group": age,
            "attributes": {k: v for k in ("department_name", "section_name", "garment_group_name")
                           if (v := clean_text(record.get(k)))}}


@dataclass
class HMFeed:
    name: str = "hm"

    def rows(self, path: Path) -> Iterator[RawRow]:
        return self.map_records(read_records(Path(path)))

    def map_records(self, records: Iterable[Record]) -> Iterator[RawRow]:
        return map_each(records, map_record, "article_id")


FEED = HMFeed()
