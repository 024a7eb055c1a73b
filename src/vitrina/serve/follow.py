"""A worker process follows the others (vitrina.serve.workers): what any process writes to the index or the
service database reaches this one's engines and learners within `interval` seconds.

- a generation published by another worker's ingest or vector fill, or by a training run: Engine.refresh
- a tenant's settings changed through another worker: its engine is closed here and reopened on the next request
- a learned model published by the learning process, or a rollback, pause or objective set anywhere: Learner.sync
- this worker's LLM counters, copied into the metrics the workers share
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from vitrina.engine import Engine
from vitrina.learn.worker import Learners
from vitrina.serve.metrics import ServiceMetrics
from vitrina.serve.tenants import TenantRegistry


class Follower:
    def __init__(self, tenants: TenantRegistry, learners: Learners, metrics: ServiceMetrics, logger: logging.Logger,
                 interval: float = 1.0):
        self.tenants, self.learners, self.metrics, self.logger = tenants, learners, metrics, logger
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vitrina-follower", daemon=True)

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def follow(self) -> None:
        """One round (the thread runs one every `interval` seconds)."""
        steps: list[tuple[str, Callable[[], object]]] = [("tenants", self.tenants.sync)]
        steps += [(f"tenant {name!r}", partial(self._refresh, name, engine))
                  for name, engine in self.tenants.opened().items()]
        steps += [("learners", self.learners.sync)]
        if self.metrics.shared:
            steps += [("LLM counters", lambda: self.metrics.flush_llm(self.tenants.llm_stats()))]
        for what, step in steps:
            try:
                step()
            except Exception:  # one failing step (an index mid-removal, the database away) must not stop the rest
                self.logger.exception("following %s failed; trying again in %.0f s", what, self.interval)

    def _refresh(self, name: str, engine: Engine) -> None:
        lock = self.tenants.lock(name)
        if lock.acquire(blocking=False):  # held: this worker is writing that index and swaps it in itself
            try:
                engine.refresh()
            finally:
                lock.release()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.follow()
