"""A tenant's learner: turns the newest window of the log into a model, checks it offline, serves it.

An update (learn.worker calls it when enough new events arrived; the simulator calls it the same way):
  1. the window: the newest `window_searches` searches with what they showed and the trusted events (window.py)
  2. position propensities by EM over all of it (propensity.py)
  3. the window splits in time: evidence from the older 80%; the newer 20% is halved by search id into
     training searches (pairs for the weights) and held-out searches (the check), so no click is its own evidence
  4. the check picks, on the held-out searches, the best of the new weights, the weights served now, and none
  5. the served model: the chosen weights over evidence from the whole window, published as a new version
Serving reads `learner.model`, an immutable snapshot swapped in one assignment: a search never waits for an
update and never sees half of one.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy import Engine as Database

from vitrina.config import LearningSettings
from vitrina.learn.evidence import Evidence
from vitrina.learn.features import FEATURES, START
from vitrina.learn.fit import fit_weights, offline_value, scored_searches
from vitrina.learn.model import LearnedModel, ModelInfo
from vitrina.learn.objective import Objective, PresetName
from vitrina.learn.propensity import fit_propensities
from vitrina.learn.store import LearnerStore
from vitrina.learn.window import Window, load_window

DEPTH = 50  # positions with their own propensity; deeper ones share the last
EVIDENCE_SHARE = 0.8


class UpdateReport(BaseModel):
    version: int | None = None  # None: nothing to learn from yet
    chosen: str = "static"
    weights: dict[str, float] = Field(default_factory=dict)
    gate: dict[str, float] = Field(default_factory=dict)
    pairs: int = 0
    searches: int = 0
    learned_events: int = 0
    ignored_events: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


class Learner:
    def __init__(self, db: Database, tenant: str, settings: LearningSettings, logger: logging.Logger | None = None,
                 objective: PresetName | None = None):
        """objective: a learner of an experiment's variant, which learns from the tenant's whole log toward this
        preset whatever the tenant's own setting is, and keeps its models apart (slot "tenant/objective")."""
        self.tenant = tenant
        self.settings = settings
        self.preset = objective
        self.store = LearnerStore(db, tenant, f"{tenant}/{objective}" if objective else None)
        self.logger = logger or logging.getLogger("vitrina.learn")
        self.model: LearnedModel | None = None
        self._updating = threading.Lock()
        self.last_update = time.monotonic()
        self.objective = (Objective.named(objective) if objective else
                          self.store.objective() or Objective.named(settings.objective))
        self.paused = self.store.paused()
        if objective and self.store.objective() is None:
            self.store.save(self.objective, self.paused)  # so a learning process elsewhere finds this variant
        self.restored = 0  # the stored version restore() last read (0: none)
        self.restore()

    def restore(self) -> None:
        """Serve the stored model; a missing or unreadable one means the static ranking, with a warning."""
        try:
            stored = self.store.served()
            self.restored = stored[0].version if stored else 0
            self.model = LearnedModel.load(stored[1]) if stored else None
        except Exception as exc:  # corrupt state must never reach a shopper as an error
            self.logger.warning("learner state of %r unreadable (%s: %s): serving the static ranking until "
                                "the next update", self.store.slot, type(exc).__name__, exc)
            self.model = None

    def sync(self) -> None:
        """Follow what another process changed in the store (a worker serving searches follows the one that
        learns; the learning one follows a rollback or a new objective set through any worker)."""
        objective, self.paused, served = self.store.state()
        if self.preset is None:
            self.objective = objective or Objective.named(self.settings.objective)
        if served != self.restored:
            self.restore()

    @property
    def version(self) -> int:
        return self.model.info.version if self.model else 0

    def set_objective(self, objective: Objective) -> None:
        """Takes effect at the next update (which learns the gains anew from the same log)."""
        self.store.save(objective, self.paused)
        self.objective = objective

    def resume(self) -> None:
        """Updates go on after a rollback paused them."""
        self.store.save(self.objective, False)
        self.paused = False

    def pending(self) -> int:
        """Events stored since the served model's window was read."""
        return self.store.events_after(self.model.info.last_event if self.model else 0)

    def due(self) -> bool:
        since = time.monotonic() - self.last_update
        if self.paused or since < self.settings.min_update_interval_seconds:
            return False
        pending = self.pending()
        waited = since >= self.settings.update_every_seconds
        return pending >= self.settings.update_every_events or (pending > 0 and waited)

    def update(self) -> UpdateReport:
        with self._updating:
            started = time.perf_counter()
            self.last_update = time.monotonic()
            window = load_window(self.store.db, self.tenant, self.settings.window_searches,
                                 self.settings.max_clicks_per_shopper_product)
            report = UpdateReport(searches=len(window.searches), learned_events=window.learned_events,
                                  ignored_events=dict(window.ignored))
            if not window.searches or not window.learned_events:
                return report
            model, report.pairs = self._learn(window)
            self.store.publish(model, self.settings.keep_versions)
            self.model, self.restored = model, model.info.version
            report.version, report.chosen = model.info.version, model.info.chosen
            report.weights, report.gate = model.info.weights, model.info.gate
            report.seconds = round(time.perf_counter() - started, 3)
            return self._published(report)

    def update_in_child(self) -> UpdateReport:
        """The same update in a child process: its peak memory goes when the child exits, rather than staying in
        the server's heap as its high-water mark; the served model is then read back from the store. A database the
        child can't open (SQLite in memory) is updated in place."""
        url = self.store.db.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return self.update()
        with self._updating:
            started = time.perf_counter()
            self.last_update = time.monotonic()
            # spawn, not fork: the server's threads (searches, onnxruntime pools) must not be copied mid-flight
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                answer = pool.submit(_update, url.render_as_string(hide_password=False), self.tenant,
                                     self.settings.model_dump(mode="json"), self.preset).result()
            self.restore()
            report = UpdateReport.model_validate(answer)
            report.seconds = round(time.perf_counter() - started, 3)
            return self._published(report) if report.version is not None else report

    def _published(self, report: UpdateReport) -> UpdateReport:
        self.logger.info("learner of %r published version %d (%s weights %s) from %d searches in %.2fs",
                         self.store.slot, report.version, report.chosen, report.weights, report.searches,
                         report.seconds)
        return report

    def _learn(self, window: Window) -> tuple[LearnedModel, int]:
        logged = window.searches
        pair_ids: dict[tuple[str, str], int] = {}
        positions, pairs, clicks = [], [], []
        for s in logged:
            for position, pid, _, _ in s.shown:
                positions.append(position)
                pairs.append(pair_ids.setdefault((s.key, pid), len(pair_ids)))
                clicks.append(bool(s.outcomes.get(pid) and s.outcomes[pid].clicked))
        theta = fit_propensities(np.array(positions), np.array(pairs), np.array(clicks), DEPTH)
        objective, worth = self.objective, window.worth(self.objective)
        cut = int(len(logged) * EVIDENCE_SHARE)
        older, newer = logged[:cut], logged[cut:]
        early = Evidence.build(older, theta, objective, worth, self.settings.prior_strength)
        train = [s for s in newer if _half(s.search_id) == 0]
        held = [s for s in newer if _half(s.search_id) == 1]
        train_scored = scored_searches(train, early, theta, objective, worth)
        held_scored = scored_searches(held, early, theta, objective, worth)
        current = self.model.weights if self.model is not None else np.zeros(len(FEATURES))
        fitted, n_pairs = fit_weights(train_scored, current if current.any() else START)
        candidates = {"new": fitted, "kept": current, "static": np.zeros(len(FEATURES))}
        gate = {name: round(offline_value(held_scored, w), 6) for name, w in candidates.items()}
        if len(held_scored) < self.settings.min_validation_searches:
            chosen = "kept" if current.any() else "static"  # too little held-out evidence to change anything
        else:
            chosen = max(candidates, key=lambda name: (gate[name], name == "new", name == "kept"))
        weights = candidates[chosen]
        info = ModelInfo(version=self.store.next_version(), created_at=datetime.now(UTC), objective=objective,
                         weights={f: round(float(w), 6) for f, w in zip(FEATURES, weights, strict=True)},
                         propensities=[round(float(t), 6) for t in theta], searches=len(logged),
                         learned_events=window.learned_events, ignored_events=dict(window.ignored),
                         last_event=window.last_event, gate={**gate, "held_out_searches": len(held_scored)},
                         chosen=chosen)
        evidence = Evidence.build(logged, theta, objective, worth, self.settings.prior_strength)
        return LearnedModel(info, evidence), n_pairs

    def roll_back(self) -> int | None:
        """Serve the version before the current one (None: the static ranking) and pause automatic updates,
        so the next one does not bring back what was rolled back; `resume` lets them go on."""
        with self._updating:
            previous = self.store.roll_back()
            self.store.save(self.objective, True)
            self.paused = True
            self.restore()
            return previous


def _update(url: str, tenant: str, settings: dict, preset: PresetName | None) -> dict:
    """A child process's update (Learner.update_in_child): the report, the model published to the store."""
    from vitrina.events.db import connect

    db = connect(url)
    try:
        learner = Learner(db, tenant, LearningSettings.model_validate(settings), logging.getLogger("vitrina.learn"),
                          preset)
        return learner.update().model_dump(mode="json")
    finally:
        db.dispose()


def _half(search_id: str) -> int:
    return hashlib.blake2b(search_id.encode(), digest_size=1).digest()[0] & 1

