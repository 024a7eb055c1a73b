"""Automatic retraining of tenants' own encoders (settings.tuning.auto_retrain).

Every `poll_seconds` (its `interval`) the scheduler counts each tenant's events since its last run; at `retrain_every_events` it
starts `python -m vitrina train --tenant NAME` as a child process, so torch's work never holds the server's
interpreter, one run at a time. A run that publishes leaves a new generation with its model on disk; the tenant's
engine swaps it in between searches (Engine.refresh), no downtime. A run that fails or makes no better model
changes nothing; the next try waits for as many new events again.
"""

from __future__ import annotations

import logging
import subprocess
import sys

from sqlalchemy import Engine as Database
from sqlalchemy import func, select

from vitrina.config import Settings
from vitrina.events.schema import events
from vitrina.periodic import Periodic
from vitrina.serve.tenants import TenantRegistry

RUN_TIMEOUT_SECONDS = 3 * 3600


class RetrainScheduler(Periodic):
    def __init__(self, settings: Settings, db: Database, tenants: TenantRegistry, logger: logging.Logger,
                 poll_seconds: float = 30.0):
        super().__init__("vitrina-retrain", poll_seconds, stop_timeout=5)
        self.settings, self.db, self.tenants, self.logger = settings, db, tenants, logger
        self.last_event: dict[str, int] = {}  # tenant -> the newest event id its last run started from
        self.runs: list[dict] = []  # what each run did: tenant, exit code, last lines of its output

    def _newest_event(self, tenant: str) -> int:
        with self.db.connect() as conn:
            return int(conn.scalar(select(func.max(events.c.id)).where(events.c.tenant == tenant)) or 0)

    def _events_since(self, tenant: str, after: int) -> int:
        with self.db.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(events).where(
                events.c.tenant == tenant, events.c.id > after)) or 0)

    def due(self, tenant: str) -> bool:
        return self._events_since(tenant, self.last_event.get(tenant, 0)) >= self.settings.tuning.retrain_every_events

    def run(self, tenant: str) -> int:
        """One training run for a tenant, in a child process; its exit code (0: a better model was published)."""
        self.last_event[tenant] = self._newest_event(tenant)
        command = [sys.executable, "-m", "vitrina", "train", "--tenant", tenant,
                   "--data-dir", str(self.settings.service.data_dir),
                   "--database-url", self.settings.service.database()]
        self.logger.info("retraining tenant %r's encoder", tenant)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
            code, output = done.returncode, (done.stdout + done.stderr)[-2000:]
        except subprocess.TimeoutExpired:
            code, output = -1, f"no result after {RUN_TIMEOUT_SECONDS} s"
        self.runs.append({"tenant": tenant, "exit_code": code, "output": output})
        if code == 0:
            engine = self.tenants.opened().get(tenant)  # one not open here reads the newest generation when opened
            if engine is not None:
                engine.refresh()
            self.logger.info("tenant %r serves a new encoder", tenant)
        else:
            self.logger.warning("retraining tenant %r published nothing (exit %s): %s", tenant, code,
                                output.strip().splitlines()[-1:] or "")
        return code

    def round(self) -> None:
        for tenant in self.tenants.names():
            if self.stopping:
                return
            try:
                if self.due(tenant):
                    self.run(tenant)
            except Exception:  # the next poll tries again
                self.logger.exception("retraining tenant %r failed", tenant)
