"""Embed once: a content-hash cache on disk for product texts, an LRU in memory for queries."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from vitrina.embed.encoder import Encoder
from vitrina.sqlite_rows import rows_in


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class VectorCache:
    """(model id, text hash) -> vector, in SQLite so any process can share it."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key BLOB, vector BLOB, PRIMARY KEY (model, key))")

    def get_many(self, model: str, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        rows = rows_in(self._db, "SELECT key, vector FROM vectors WHERE model=? AND key IN ({marks})", keys, model)
        return {key: np.frombuffer(blob, dtype=np.float32) for key, blob in rows}

    def put_many(self, model: str, items: list[tuple[bytes, np.ndarray]]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                                 [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items])

    def close(self) -> None:
        self._db.close()


class CachedEncoder:
    """Wraps an Encoder: product texts through the disk cache, queries through an LRU."""

    def __init__(self, encoder: Encoder, cache: VectorCache | None, query_cache_size: int = 4096):
        self.encoder = encoder
        self.cache = cache
        self._queries: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(1, query_cache_size))
        self._queries_lock = threading.Lock()  # searches run side by side; the LRU reorders on every read

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    def encode_documents(self, texts: list[str], progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, int]:
        """Vectors for texts, encoding only cache misses; returns (vectors, number encoded)."""
        keys = [text_key(t) for t in texts]
        known = self.cache.get_many(self.model_id, list(set(keys))) if self.cache else {}
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            text_of = {k: t for k, t in zip(keys, texts, strict=True)}
            step = 256
            for start in range(0, len(missing), step):
                chunk = missing[start:start + step]
                vectors = self.encoder.encode([text_of[k] for k in chunk])
                fresh = list(zip(chunk, vectors, strict=True))
                known.update(fresh)
                if self.cache:
                    self.cache.put_many(self.model_id, fresh)
                if progress:
                    progress(len(chunk))
        out = np.stack([known[k] for k in keys]) if keys else np.zeros((0, self.dimension), np.float32)
        return out, len(missing)

    def cached_documents(self, texts: list[str]) -> list[np.ndarray | None]:
        """The vectors the cache already holds for texts (None where it has none); encodes nothing."""
        keys = [text_key(t) for t in texts]
        known = self.cache.get_many(self.model_id, list(set(keys))) if self.cache else {}
        return [known.get(k) for k in keys]

    def cached_query(self, text: str) -> np.ndarray | None:
        """A query vector only if it was encoded already (never encodes)."""
        with self._queries_lock:
            return self._queries.get(text)

    def encode_query(self, text: str) -> np.ndarray:
        with self._queries_lock:
            hit = self._queries.get(text)
        if hit is None:
            hit = self.encoder.encode([text])[0]  # outside the lock: two threads may encode one query, never wait
            with self._queries_lock:
                self._queries[text] = hit
        return hit
