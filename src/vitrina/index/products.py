"""Product records beside the shard: point number <-> product id, and the product itself.

Kept out of the Qdrant payload on purpose: a payload read costs ~20 µs per point on disk, so
search returns bare point numbers and only the final candidates are looked up here.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from vitrina.sqlite_rows import rows_in


class ProductStore:
    def __init__(self, path: Path):
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS products (num INTEGER PRIMARY KEY, pid TEXT UNIQUE NOT NULL, "
                         "doc TEXT NOT NULL)")
        # Every search maps each list's point numbers to product ids: ~7 µs a row from SQLite (a random B-tree
        # probe), 3-5 ms a search at 1M over its 3-5 lists. A list indexed by number does it in memory (~70 MB at
        # 1M), read once on first use and kept in step with this store's own writes (a generation has no others).
        self._pid_at: list[str | None] | None = None
        self._pid_lock = threading.Lock()

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
                                 [(n, p, orjson.dumps(d).decode()) for n, p, d in rows])
        self._keep_in_step((n, p) for n, p, _ in rows)

    def remove(self, nums: list[int]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM products WHERE num = ?", [(n,) for n in nums])
        self._keep_in_step((n, None) for n in nums)

    def _keep_in_step(self, placed: Iterable[tuple[int, str | None]]) -> None:
        """The in-memory id list (once read) after this store's own write: (number, id or None when removed)."""
        with self._pid_lock:
            pid_at = self._pid_at
            if pid_at is None:
                return
            for num, pid in placed:
                if num >= len(pid_at):
                    pid_at.extend([None] * (num + 1 - len(pid_at)))
                pid_at[num] = pid

    def by_ids(self, pids: list[str]) -> dict[str, tuple[int, str]]:
        """product id -> (point number, product JSON text), in one read."""
        rows = rows_in(self._db, "SELECT pid, num, doc FROM products WHERE pid IN ({marks})", pids)
        return {p: (n, d) for p, n, d in rows}

    def pids_of(self, nums: list[int]) -> dict[int, str]:
        pid_at = self._pid_at if self._pid_at is not None else self._read_pids()
        size = len(pid_at)
        return {n: pid for n in nums if 0 <= n < size and (pid := pid_at[n]) is not None}

    def _read_pids(self) -> list[str | None]:
        with self._pid_lock:
            if self._pid_at is None:
                (top,) = self._db.execute("SELECT COALESCE(MAX(num), 0) FROM products").fetchone()
                pid_at: list[str | None] = [None] * (top + 1)
                for num, pid in self._db.execute("SELECT num, pid FROM products"):
                    pid_at[num] = pid
                self._pid_at = pid_at
            return self._pid_at

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
