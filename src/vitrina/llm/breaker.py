"""A circuit breaker: after a run of failures, calls fail at once for a while instead of each waiting out its
timeout; then one call may try again (half-open), and a success closes the circuit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitOpen(RuntimeError):
    """The endpoint failed too often lately: not called."""


class CircuitBreaker:
    def __init__(self, failures: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.failures = failures
        self.reset_seconds = reset_seconds
        self.clock = clock
        self._failed = 0
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is under way
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half-open" if self.clock() - self._opened_at >= self.reset_seconds else "open"

    def before(self) -> None:
        """Raises CircuitOpen unless a call may go out now."""
        with self._lock:
            if self._opened_at is None:
                return
            if self.clock() - self._opened_at < self.reset_seconds or self._trial:
                raise CircuitOpen(f"the LLM endpoint failed {self._failed} times in a row; "
                                  f"next try in {self.reset_seconds:.0f} s from the last failure")
            self._trial = True

    def success(self) -> None:
        with self._lock:
            self._failed, self._opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self._failed += 1
            self._trial = False
            if self._failed >= self.failures:
                self._opened_at = self.clock()
