"""`WHERE key IN (...)` over any number of keys, in chunks under SQLite's bound-parameter limit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

MAX_PARAMETERS = 900  # SQLite's limit is 999 on older builds; a few stay free for other parameters


def rows_in(db: sqlite3.Connection, sql: str, keys: Sequence[Any], *before: Any) -> Iterator[tuple]:
    """Rows of `sql` (with one `{marks}` for the IN list), for all `keys`; `before` binds parameters ahead of it."""
    for start in range(0, len(keys), MAX_PARAMETERS):
        chunk = list(keys[start:start + MAX_PARAMETERS])
        yield from db.execute(sql.format(marks=",".join("?" * len(chunk))), [*before, *chunk])
