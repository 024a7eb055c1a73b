"""Product records beside the shard: point number <-> product id, and the product itself.

Kept out of the Qdrant payload on purpose: a payload read costs ~20 µs per point on disk, so
search returns bare point numbers and only the final candidates are looked up here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from vitrina.sqlite_rows import rows_in


class ProductStore:
    def __init__(self, path: Path):
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS products (num INTEGER PRIMARY KEY, pid TEXT UNIQUE NOT NULL, "
                         "doc TEXT NOT NULL)")

    def numbers(self, pids: list[str], assign: bool = False) -> dict[str, int]:
        """Point numbers of product ids; new ids get fresh numbers when `assign`."""
        found: dict[str, int] = dict(rows_in(self._db, "SELECT pid, num FROM products WHERE pid IN ({marks})", pids))
        if assign:
            (top,) = self._db.execute("SELECT COALESCE(MAX(num), 0) FROM products").fetchone()
            for pid in pids:
                if pid not in found:
                    top += 1
                    found[pid] = top
        return found

    def put(self, rows: list[tuple[int, str, dict]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO products (num, pid, doc) VALUES (?, ?, ?)",
                                 [(n, p, json.dumps(d, separators=(",", ":"))) for n, p, d in rows])

    def remove(self, nums: list[int]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM products WHERE num = ?", [(n,) for n in nums])

    def by_numbers(self, nums: list[int]) -> dict[int, tuple[str, str]]:
        """num -> (product id, product JSON text)."""
        rows = rows_in(self._db, "SELECT num, pid, doc FROM products WHERE num IN ({marks})", nums)
        return {n: (p, d) for n, p, d in rows}

    def pids_of(self, nums: list[int]) -> dict[int, str]:
        return dict(rows_in(self._db, "SELECT num, pid FROM products WHERE num IN ({marks})", nums))

    def pids(self, batch: int = 4096) -> Iterator[str]:
        """Every product id, in point-number order, read a batch at a time."""
        last = 0
        while True:
            rows = self._db.execute("SELECT num, pid FROM products WHERE num > ? ORDER BY num LIMIT ?",
                                    (last, batch)).fetchall()
            if not rows:
                return
            yield from (pid for _, pid in rows)
            last = rows[-1][0]

    def copy_to(self, path: Path) -> None:
        """A consistent copy through SQLite's backup API (a file copy could miss pages)."""
        target = sqlite3.connect(str(path))
        with target:
            self._db.backup(target)
        target.close()

    def close(self) -> None:
        self._db.close()
