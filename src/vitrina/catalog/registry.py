"""Feed adapters by name: one table, no import side effects. Another package adds one through the
`vitrina.feeds` entry point group (a callable taking the mapping, returning a Feed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vitrina.catalog import hm, homedepot, myntra
from vitrina.catalog.feeds import Feed, TabularFeed
from vitrina.plugins import find

FEEDS: dict[str, Callable[[dict[str, str]], Feed]] = {
    "tabular": lambda mapping: TabularFeed(mapping=mapping),
    "myntra": lambda mapping: myntra.FEED,
    "homedepot": lambda mapping: homedepot.FEED,
    "hm": lambda mapping: hm.FEED,
}
TABULAR_ALIASES = ("jsonl", "csv", "parquet")


def make_feed(kind: str, mapping: dict[str, str] | None = None, **options: Any) -> Feed:
    """A feed adapter by name: 'tabular' (JSONL/CSV/Parquet + mapping), 'myntra', 'homedepot', 'hm', or a plug-in."""
    if kind in ("tabular", *TABULAR_ALIASES):
        return TabularFeed(mapping=mapping or {}, **options)
    return find(FEEDS, kind, "vitrina.feeds", "feed")(mapping or {})
