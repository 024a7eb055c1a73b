"""Learning in the service: one learner per tenant, and a background thread that updates each one when enough
new events arrived (or some arrived and a while passed). Searches never wait for it: they read whatever model
is served, and an update swaps in the next one whole."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import cast, get_args

from sqlalchemy import Engine as Database

from vitrina.config import LearningSettings
from vitrina.learn.learner import Learner
from vitrina.learn.objective import PresetName
from vitrina.learn.phase import LearnedPhase
from vitrina.learn.store import learner_slots
from vitrina.periodic import Periodic
from vitrina.rank.ranker import RankPhase


class Learners:
    """Each tenant's learner, and a learner per preset objective an experiment's variant ranks by, made on
    first use (a tenant that never searches the `learned-margin` profile never runs a margin learner)."""

    def __init__(self, db: Database, settings: LearningSettings, logger: logging.Logger):
        self.db, self.settings, self.logger = db, settings, logger
        self._learners: dict[tuple[str, str | None], Learner] = {}
        self._guard = threading.Lock()

    def get(self, tenant: str, objective: PresetName | None = None) -> Learner:
        """objective None: the tenant's own learner, whose objective the tenant sets."""
        with self._guard:
            learner = self._learners.get((tenant, objective))
            if learner is None:
                learner = self._learners[(tenant, objective)] = Learner(self.db, tenant, self.settings, self.logger,
                                                                        objective)
            return learner

    def of_variants(self, tenant: str) -> dict[str, Learner]:
        """The tenant's per-objective learners that searches have made so far, by objective."""
        with self._guard:
            return {o: learner for (t, o), learner in self._learners.items() if t == tenant and o is not None}

    def all(self) -> list[Learner]:
        with self._guard:
            return list(self._learners.values())

    def discover(self, tenants: list[str]) -> None:
        """Make the learners of these tenants and of every variant slot in the store, for a process that learns
        for searches other processes serve (vitrina.serve.workers)."""
        for tenant in tenants:
            self.get(tenant)
        known = set(tenants)
        for slot in learner_slots(self.db):
            tenant, _, objective = slot.partition("/")
            if tenant in known and objective in get_args(PresetName):
                self.get(tenant, cast(PresetName, objective))

    def sync(self) -> None:
        """Each learner follows the store: models, pauses and objectives that another process published."""
        for learner in self.all():
            learner.sync()

    def phases(self, tenant: str) -> dict[str, RankPhase]:
        """The ranking phases this tenant's engine is given: "learned", and "learned:<objective>" per preset."""
        return {LearnedPhase.name: LearnedPhase(self.get(tenant)),
                **{f"{LearnedPhase.name}:{objective}": LearnedPhase(partial(self.get, tenant, objective))
                   for objective in get_args(PresetName)}}


class LearningWorker(Periodic):
    """Polls the learners every `poll_seconds`; an update that fails is logged and tried again later."""

    def __init__(self, learners: Learners, poll_seconds: float = 1.0,
                 tenants: Callable[[], list[str]] | None = None):
        """tenants: given where searches are served by other processes, which then make no learner here: each
        poll makes the learners of these tenants (and their variants) and follows the store's state first."""
        super().__init__("vitrina-learner", poll_seconds)
        self.learners = learners
        self.tenants = tenants

    def round(self) -> None:
        if self.tenants is not None:
            try:
                self.learners.discover(self.tenants())
                self.learners.sync()
            except Exception:  # the database is away: the next poll tries again
                self.learners.logger.exception("learners could not follow the store")
                return
        for learner in self.learners.all():
            if self.stopping:
                return
            try:
                if learner.due():
                    learner.update_in_child() if self.learners.settings.update_in_child else learner.update()
            except Exception:  # the next poll tries again; the served model stays
                self.learners.logger.exception("learner update of tenant %r failed", learner.tenant)
