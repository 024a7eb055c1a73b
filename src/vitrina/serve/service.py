"""Everything a request needs, built once per app from the settings: database, tenants, events, metrics."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine as Database

from vitrina.config import Settings
from vitrina.events.analytics import Analytics
from vitrina.events.db import connect
from vitrina.events.store import EventStore
from vitrina.experiments.store import ExperimentStore
from vitrina.learn.worker import Learners, LearningWorker
from vitrina.serve.follow import Follower
from vitrina.serve.images import ImageStore
from vitrina.serve.logs import service_logger
from vitrina.serve.metrics import ServiceMetrics
from vitrina.serve.retrain import RetrainScheduler
from vitrina.serve.tenants import TenantRegistry
from vitrina.serve.vector_fill import VectorFillers

DEFAULT_TENANT = "default"


@dataclass
class Keys:
    """Keys handed out at start-up (printed once; only their hashes are stored)."""

    admin: str | None = None
    default_full: str | None = None
    default_public: str | None = None


@dataclass
class Service:
    settings: Settings
    db: Database
    tenants: TenantRegistry
    events: EventStore
    analytics: Analytics
    metrics: ServiceMetrics
    images: ImageStore
    logger: logging.Logger
    learners: Learners
    experiments: ExperimentStore
    keys: Keys = field(default_factory=Keys)
    fillers: VectorFillers = field(default_factory=VectorFillers)
    worker: LearningWorker | None = None
    retrain: RetrainScheduler | None = None
    follower: Follower | None = None

    @classmethod
    def build(cls, settings: Settings) -> Service:
        settings = settings.model_copy(update={"warm_on_open": True})  # a shopper's first search is a warm one
        db = connect(settings.service.database())
        logger = service_logger()
        learners = Learners(db, settings.learning, logger)
        phases = learners.phases if settings.learning.enabled else None
        registry = TenantRegistry(db, settings, phases=phases)
        return cls(settings=settings, db=db, tenants=registry, events=EventStore(db), analytics=Analytics(db),
                   metrics=ServiceMetrics(registry.llm_stats), images=ImageStore(settings.service.images_path),
                   logger=logger, learners=learners, experiments=ExperimentStore(db))

    def open_engines(self) -> None:
        """Open (and so warm) every tenant's engine now, at start, rather than on its first search."""
        for name in self.tenants.names():
            try:
                self.tenants.engine(name)
            except Exception as exc:  # one tenant's broken index must not keep the others down
                self.logger.warning("tenant %s not opened at start: %s", name, exc)

    def start_learning(self, for_workers: bool = False) -> None:
        """The background learner, and the retraining scheduler where settings.tuning.auto_retrain (once each).
        for_workers: the searches are served by worker processes, so the learners are made here for every tenant
        and follow what the workers change (vitrina.serve.workers)."""
        if self.settings.learning.enabled and self.worker is None:
            self.worker = LearningWorker(self.learners, tenants=self.tenants.names if for_workers else None).start()
        if self.settings.tuning.auto_retrain and self.retrain is None:
            self.retrain = RetrainScheduler(self.settings, self.db, self.tenants, self.logger).start()

    def start_following(self) -> None:
        """In a worker process: follow what the other processes publish (vitrina.serve.follow)."""
        if self.follower is None:
            self.follower = Follower(self.tenants, self.learners, self.metrics, self.logger,
                                     self.settings.service.follow_seconds).start()

    @property
    def profile(self) -> str | None:
        """The ranking profile searches use unless a request names one."""
        return self.settings.learning.profile if self.settings.learning.enabled else None

    def bootstrap(self, index_path: Path | None = None) -> Keys:
        """The quick start: an admin key, and tenant `default` (serving index_path) with a full and a public key."""
        self.keys.admin = self.tenants.add_key(None, "admin", self.settings.service.admin_key, "startup")
        self.tenants.ensure(DEFAULT_TENANT, index_path)
        self.keys.default_full = self.tenants.add_key(DEFAULT_TENANT, "full", self.settings.api_key, "startup")
        self.keys.default_public = self.tenants.add_key(DEFAULT_TENANT, "public", None, "storefront")
        return self.keys

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.retrain is not None:
            self.retrain.stop()
            self.retrain = None
        self.tenants.close()
        self.db.dispose()
