"""Answers of repeated searches, kept until the index changes: least recently used out first, bounded by a
number of answers and by bytes (each answer's JSON size, what the service would send: a product-heavy answer
weighs more than a count would say, and a count alone let the soak's RSS grow 29% as the cache filled).
Answers are kept as that JSON, not as objects: a few hundred thousand live pydantic objects made every full garbage
collection a 100-200 ms stall of whichever search it fell in; a hit is read back in well under a millisecond."""

from __future__ import annotations

import threading

from cachetools import LRUCache

from vitrina.pipeline import SearchResponse


class ResponseCache:
    def __init__(self, entries: int, max_bytes: int):
        self.entries = entries
        self._lock = threading.Lock()  # searches share the cache across threads; an LRU reorders on every read
        self._cache: LRUCache[str, bytes] = LRUCache(maxsize=max(1, max_bytes), getsizeof=len)

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
            answer = self._cache.get(key)
        return SearchResponse.model_validate_json(answer) if answer is not None else None

    def put(self, key: str, response: SearchResponse) -> None:
        if not self.enabled:
            return
        answer = response.__pydantic_serializer__.to_json(response)
        if len(answer) > self._cache.maxsize:
            return  # one answer larger than the whole budget is not kept (cachetools would raise)
        with self._lock:
            self._cache[key] = answer
            while len(self._cache) > self.entries:
                self._cache.popitem()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
