"""Experiments and assignments in the service database; the running experiment of a tenant is read once and
kept until one is created or stopped (a search must not query the database to find its variant)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from vitrina.events.schema import assignments, experiments
from vitrina.experiments.models import Experiment


class ExperimentError(ValueError):
    pass


class ExperimentStore:
    def __init__(self, db: Engine):
        self.db = db
        self._running: dict[str, Experiment | None] = {}
        self._guard = threading.Lock()

    def create(self, tenant: str, experiment: Experiment) -> None:
        """One experiment runs per tenant at a time: a shopper is in one variant, of one test."""
        running = self.running(tenant)
        if running is not None:
            raise ExperimentError(f"experiment {running.name!r} is running: stop it first")
        with self.db.begin() as conn:
            if conn.scalar(select(experiments.c.name).where(experiments.c.tenant == tenant,
                                                            experiments.c.name == experiment.name)):
                raise ExperimentError(f"an experiment {experiment.name!r} exists; names are not reused")
            conn.execute(experiments.insert().values(tenant=tenant, name=experiment.name,
                                                     definition=experiment.model_dump(), created_at=datetime.now(UTC)))
        self._forget(tenant)

    def stop(self, tenant: str, name: str) -> Experiment:
        found = self.get(tenant, name)
        stopped = found.model_copy(update={"status": "stopped"})
        with self.db.begin() as conn:
            conn.execute(update(experiments).where(experiments.c.tenant == tenant, experiments.c.name == name)
                         .values(definition=stopped.model_dump()))
        self._forget(tenant)
        return stopped

    def get(self, tenant: str, name: str) -> Experiment:
        with self.db.connect() as conn:
            raw = conn.scalar(select(experiments.c.definition).where(experiments.c.tenant == tenant,
                                                                     experiments.c.name == name))
        if raw is None:
            raise LookupError(f"no experiment {name!r} in tenant {tenant!r}")
        return Experiment.model_validate(raw)

    def all(self, tenant: str) -> list[Experiment]:
        with self.db.connect() as conn:
            rows = conn.scalars(select(experiments.c.definition).where(experiments.c.tenant == tenant)
                                .order_by(experiments.c.created_at))
            return [Experiment.model_validate(r) for r in rows]

    def running(self, tenant: str) -> Experiment | None:
        with self._guard:
            if tenant in self._running:
                return self._running[tenant]
        found = next((e for e in self.all(tenant) if e.status == "running"), None)
        with self._guard:
            self._running[tenant] = found
        return found

    def record(self, tenant: str, search_id: str, experiment: str, variant: str,
               teams: dict[str, str] | None = None) -> None:
        with self.db.begin() as conn:
            conn.execute(assignments.insert().values(search_id=search_id, tenant=tenant, experiment=experiment,
                                                     variant=variant, teams=teams))

    def _forget(self, tenant: str) -> None:
        with self._guard:
            self._running.pop(tenant, None)
