"""Work for the LLM that nobody waits for: a bounded queue of keys, one worker thread, each key asked once.

A search that finds no cached answer puts its query here and goes on with the rules; the answer lands in the
client's cache for the next search of those words. A caller with a time budget may wait for one key.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from vitrina.llm.client import ChatClient, LLMError

R = TypeVar("R")
# How long work nobody waits for yields to a person's turn (an assistant's turn on a CPU model: ~20-40 s).
YIELD_SECONDS = 120.0


def yielding_to(client: ChatClient) -> Callable[[], None]:
    """A `before` hook: background asks start after the client's foreground holds (for at most YIELD_SECONDS)."""
    return lambda: client.after_foreground(YIELD_SECONDS)


class BackgroundAsker(Generic[R]):
    def __init__(self, ask: Callable[[str], R], queue_size: int, name: str = "llm-background",
                 retry_after_seconds: float = 600.0, before: Callable[[], None] | None = None):
        self._ask = ask
        self._before = before  # called before each ask: e.g. wait for a person's turn (ChatClient.after_foreground)
        self.retry_after_seconds = retry_after_seconds
        self._queue: queue.Queue[str | None] = queue.Queue(queue_size)
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Event] = {}
        self.failed: dict[str, str] = {}  # key -> why (not asked again for retry_after_seconds)
        self._failed_at: dict[str, float] = {}
        self.dropped = 0  # keys refused because the queue was full
        self.done = 0
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def request(self, key: str) -> threading.Event | None:
        """Ask for key in the background (once); the event is set when it is answered or failed. None when the
        key failed before or the queue is full."""
        with self._lock:
            if key in self._pending:
                return self._pending[key]
            if key in self.failed:
                if time.monotonic() - self._failed_at[key] < self.retry_after_seconds:
                    return None
                del self.failed[key], self._failed_at[key]
            event = threading.Event()
            try:
                self._queue.put_nowait(key)
            except queue.Full:
                self.dropped += 1
                return None
            self._pending[key] = event
            return event

    def pending(self, key: str) -> bool:
        with self._lock:
            return key in self._pending

    def backlog(self) -> int:
        return self._queue.qsize()

    def _work(self) -> None:
        while (key := self._queue.get()) is not None:
            try:
                if self._before is not None:
                    self._before()
                self._ask(key)
            except LLMError as exc:
                with self._lock:
                    self.failed[key] = str(exc)[:300]
                    self._failed_at[key] = time.monotonic()
            finally:
                with self._lock:
                    event = self._pending.pop(key, None)
                    self.done += 1
                if event is not None:
                    event.set()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every key asked so far is answered; False if the timeout came first."""
        with self._lock:
            events = list(self._pending.values())
        return all(e.wait(timeout) for e in events)

    def close(self) -> None:
        """Stop after the key in hand; keys still queued are left (they are asked again on a later search)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join(timeout=1.0)
