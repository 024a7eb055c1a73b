"""A background thread that does one round of work every so many seconds until stopped (the learner's updates,
scheduled retraining, a worker process following the others)."""

from __future__ import annotations

import threading
from typing import Self


class Periodic:
    def __init__(self, name: str, interval: float, stop_timeout: float = 60.0):
        self.interval = interval
        self.stop_timeout = stop_timeout  # how long stop() waits for a round under way
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.stop_timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def round(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.round()
