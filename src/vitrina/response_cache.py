"""Answers of repeated searches, kept until the index changes: least recently used out first, bounded by a
number of answers and by bytes (each answer's JSON size, what the service would send: a product-heavy answer
weighs more than a count would say, and a count alone let the soak's RSS grow 29% as the cache filled)."""

from __future__ import annotations

import threading

from cachetools import LRUCache

from vitrina.pipeline import SearchResponse


class ResponseCache:
    def __init__(self, entries: int, max_bytes: int):
        self.entries = entries
        self._lock = threading.Lock()  # searches share the cache across threads; an LRU reorders on every read
        self._cache: LRUCache[str, tuple[SearchResponse, int]] = LRUCache(maxsize=max(1, max_bytes),
                                                                         getsizeof=lambda item: item[1])

    @property
    def enabled(self) -> bool:
        return self.entries > 0 and self._cache.maxsize > 1

    @property
    def bytes(self) -> int:
        return int(self._cache.currsize)

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, key: str) -> SearchResponse | None:
        with self._lock:
            item = self._cache.get(key)
        return item[0] if item is not None else None

    def put(self, key: str, response: SearchResponse) -> None:
        if not self.enabled:
            return
        size = len(response.model_dump_json())
        if size > self._cache.maxsize:
            return  # one answer larger than the whole budget is not kept (cachetools would raise)
        with self._lock:
            self._cache[key] = (response, size)
            while len(self._cache) > self.entries:
                self._cache.popitem()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
