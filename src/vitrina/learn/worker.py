"""Learning in the service: one learner per tenant, and a background thread that updates each one when enough
new events arrived (or some arrived and a while passed). Searches never wait for it: they read whatever model
is served, and an update swaps in the next one whole."""

from __future__ import annotations

import logging
import threading
from functools import partial
from typing import get_args

from sqlalchemy import Engine as Database

from vitrina.config import LearningSettings
from vitrina.learn.learner import Learner
from vitrina.learn.objective import PresetName
from vitrina.learn.phase import LearnedPhase
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

    def phases(self, tenant: str) -> dict[str, RankPhase]:
        """The ranking phases this tenant's engine is given: "learned", and "learned:<objective>" per preset."""
        return {LearnedPhase.name: LearnedPhase(self.get(tenant)),
                **{f"{LearnedPhase.name}:{objective}": LearnedPhase(partial(self.get, tenant, objective))
                   for objective in get_args(PresetName)}}


class LearningWorker:
    """Polls the learners every `poll_seconds`; an update that fails is logged and tried again later."""

    def __init__(self, learners: Learners, poll_seconds: float = 1.0):
        self.learners = learners
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vitrina-learner", daemon=True)

    def start(self) -> LearningWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            for learner in self.learners.all():
                if self._stop.is_set():
                    return
                try:
                    if learner.due():
                        learner.update_in_child() if self.learners.settings.update_in_child else learner.update()
                except Exception:  # the next poll tries again; the served model stays
                    self.learners.logger.exception("learner update of tenant %r failed", learner.tenant)
