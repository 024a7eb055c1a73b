"""Product records beside the shard: point number <-> product id, and the product itself.

Kept out of the Qdrant payload on purpose: a payload read costs ~20 µs per point on disk, so
search returns bare point numbers and only the final candidates are looked up here.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


class ProductStore:
    def __init__(self, path: Path):
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS products (num INTEGER PRIMARY KEY, pid TEXT UNIQUE NOT NULL, "
                         "doc TEXT NOT NULL)")

    def numbers(self, pids: list[str], assign: bool = False) -> dict[str, int]:
        """Point numbers of product ids; new ids get fresh numbers when `assign`."""
        found: dict[str, int] = {}
        for start in range(0, len(pids), 900):
            chunk = pids[start:start + 900]
            rows = self._db.execute(f"SELECT pid, num FROM products WHERE pid IN ({','.join('?' * len(chunk))})", chunk)
            found.update(rows)
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
        out: dict[int, tuple[str, str]] = {}
        for start in range(0, len(nums), 900):
            chunk = nums[start:start + 900]
            rows = self._db.execute(f"SELECT num, pid, doc FROM products WHERE num IN ({','.join('?' * len(chunk))})",
                                    chunk)
            out.update((n, (p, d)) for n, p, d in rows)
        return out

    def pids_of(self, nums: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for start in range(0, len(nums), 900):
            chunk = nums[start:start + 900]
            out.update(self._db.execute(f"SELECT num, pid FROM products WHERE num IN ({','.join('?' * len(chunk))})",
                                        chunk))
        return out

    def copy_to(self, path: Path) -> None:
        """A consistent copy through SQLite's backup API (a file copy could miss pages)."""
        target = sqlite3.connect(str(path))
        with target:
            self._db.backup(target)
        target.close()

    def close(self) -> None:
        self._db.close()
