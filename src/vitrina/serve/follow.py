"""A worker process follows the others (vitrina.serve.workers): what any process writes to the index or the
service database reaches this one's engines and learners within `interval` seconds.

- a generation published by another worker's ingest or vector fill, or by a training run: Engine.refresh
- a tenant's settings changed through another worker: its engine is closed here and reopened on the next request
- a learned model published by the learning process, or a rollback, pause or objective set anywhere: Learner.sync
- this worker's LLM counters, copied into the metrics the workers share
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from vitrina.learn.worker import Learners
from vitrina.periodic import Periodic
from vitrina.serve.metrics import ServiceMetrics
from vitrina.serve.tenants import TenantRegistry


class Follower(Periodic):
    def __init__(self, tenants: TenantRegistry, learners: Learners, metrics: ServiceMetrics, logger: logging.Logger,
                 interval: float = 1.0):
        super().__init__("vitrina-follower", interval, stop_timeout=30)
        self.tenants, self.learners, self.metrics, self.logger = tenants, learners, metrics, logger

    def round(self) -> None:
        steps: list[tuple[str, Callable[[], object]]] = [("tenants", self.tenants.sync)]
        steps += [(f"tenant {name!r}", partial(self.tenants.refresh, name, engine))
                  for name, engine in self.tenants.opened().items()]
        steps += [("learners", self.learners.sync)]
        if self.metrics.shared:
            steps += [("LLM counters", lambda: self.metrics.flush_llm(self.tenants.llm_stats()))]
        for what, step in steps:
            try:
                step()
            except Exception:  # one failing step (an index mid-removal, the database away) must not stop the rest
                self.logger.exception("following %s failed; trying again in %.0f s", what, self.interval)
