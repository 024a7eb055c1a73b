"""Searches run side by side; swapping in a new index generation waits for the searches under way and holds new
ones back only for the moment the swap takes. A readers-writer lock that prefers the writer, so a steady stream
of searches cannot starve an ingest's publish. Not reentrant: a search must not start another inside itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SwapGuard:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._swapping = False
        self._waiting = 0  # swaps waiting for the readers to finish

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._swapping or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def swapping(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._swapping or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._swapping = True
        try:
            yield
        finally:
            with self._cond:
                self._swapping = False
                self._cond.notify_all()
