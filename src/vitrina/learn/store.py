"""Where a tenant's learner keeps what it learned: its objective and its model versions, in the service database
(SQLite by default, PostgreSQL by URL), so a restarted service serves the same model and goes on from there."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, update

from vitrina.events.schema import events, learner_models, learner_settings
from vitrina.learn.model import LearnedModel, ModelInfo
from vitrina.learn.objective import Objective


class NoModelToRestore(LookupError):
    pass


class LearnerStore:
    """`slot` names whose models these are: the tenant's own learner (the tenant's name), or one that learns
    toward a fixed objective for an experiment's variant ("shop/margin"); events are always the tenant's."""

    def __init__(self, db: Engine, tenant: str, slot: str | None = None):
        self.db = db
        self.tenant = tenant
        self.slot = slot or tenant

    def objective(self) -> Objective | None:
        with self.db.connect() as conn:
            raw = conn.scalar(select(learner_settings.c.objective).where(learner_settings.c.tenant == self.slot))
        return Objective.model_validate(raw) if raw is not None else None

    def paused(self) -> bool:
        with self.db.connect() as conn:
            return bool(conn.scalar(select(learner_settings.c.paused).where(learner_settings.c.tenant == self.slot)))

    def state(self) -> tuple[Objective | None, bool, int]:
        """(objective, paused, the served version or 0) in one read: what a process following another's changes
        compares before it reads a model itself."""
        with self.db.connect() as conn:
            row = conn.execute(select(learner_settings.c.objective, learner_settings.c.paused)
                               .where(learner_settings.c.tenant == self.slot)).first()
            served = conn.scalar(select(func.max(learner_models.c.version)).where(
                learner_models.c.tenant == self.slot, learner_models.c.status == "served"))
        objective = Objective.model_validate(row[0]) if row is not None else None
        return objective, bool(row[1]) if row is not None else False, int(served or 0)

    def save(self, objective: Objective, paused: bool) -> None:
        now = datetime.now(UTC)
        values = {"objective": objective.model_dump(), "paused": paused, "updated_at": now}
        with self.db.begin() as conn:
            done = conn.execute(update(learner_settings).where(learner_settings.c.tenant == self.slot).values(values))
            if not done.rowcount:
                conn.execute(learner_settings.insert().values(tenant=self.slot, **values))

    def served(self) -> tuple[ModelInfo, bytes] | None:
        """The model served now (raw state: decoding it may fail, and the caller decides what then)."""
        with self.db.connect() as conn:
            row = conn.execute(select(learner_models.c.info, learner_models.c.state)
                               .where(learner_models.c.tenant == self.slot, learner_models.c.status == "served")
                               .order_by(learner_models.c.version.desc()).limit(1)).first()
        return (ModelInfo.model_validate(row[0]), row[1]) if row else None

    def next_version(self) -> int:
        with self.db.connect() as conn:
            last = conn.scalar(select(learner_models.c.version).where(learner_models.c.tenant == self.slot)
                               .order_by(learner_models.c.version.desc()).limit(1))
        return (last or 0) + 1

    def publish(self, model: LearnedModel, keep: int) -> None:
        """The new version becomes the served one in one transaction; versions beyond `keep` are deleted."""
        mine = learner_models.c.tenant == self.slot
        with self.db.begin() as conn:
            conn.execute(update(learner_models).where(mine, learner_models.c.status == "served")
                         .values(status="retired"))
            conn.execute(learner_models.insert().values(
                tenant=self.slot, version=model.info.version, status="served",
                info=model.info.model_dump(mode="json"), state=model.dump(), created_at=model.info.created_at))
            old = list(conn.scalars(select(learner_models.c.id).where(mine)
                                    .order_by(learner_models.c.version.desc()).offset(keep)))
            if old:
                conn.execute(learner_models.delete().where(learner_models.c.id.in_(old)))

    def roll_back(self) -> int | None:
        """Retire the served version for good and serve the one before it; None when there is none before."""
        mine = learner_models.c.tenant == self.slot
        with self.db.begin() as conn:
            current = conn.scalar(select(learner_models.c.version).where(mine, learner_models.c.status == "served"))
            if current is None:
                raise NoModelToRestore(f"{self.slot!r} serves no learned model")
            conn.execute(update(learner_models).where(mine, learner_models.c.version == current)
                         .values(status="rolled_back"))
            previous = conn.scalar(select(learner_models.c.version).where(
                mine, learner_models.c.status == "retired", learner_models.c.version < current)
                .order_by(learner_models.c.version.desc()).limit(1))
            if previous is not None:
                conn.execute(update(learner_models).where(mine, learner_models.c.version == previous)
                             .values(status="served"))
        return previous

    def versions(self) -> list[dict]:
        with self.db.connect() as conn:
            rows = conn.execute(select(learner_models.c.version, learner_models.c.status, learner_models.c.info,
                                       learner_models.c.created_at).where(learner_models.c.tenant == self.slot)
                                .order_by(learner_models.c.version.desc())).mappings().all()
        return [{"version": r["version"], "status": r["status"], "created_at": r["created_at"],
                 "chosen": r["info"].get("chosen"), "weights": r["info"].get("weights"),
                 "gate": r["info"].get("gate"), "searches": r["info"].get("searches")} for r in rows]

    def events_after(self, last_event: int) -> int:
        with self.db.connect() as conn:
            return conn.scalar(select(func.count()).select_from(events).where(
                events.c.tenant == self.tenant, events.c.id > last_event)) or 0


def learner_slots(db: Engine) -> list[str]:
    """Every slot with stored settings: tenants' own learners that were set, and experiment variants' learners."""
    with db.connect() as conn:
        return list(conn.scalars(select(learner_settings.c.tenant).order_by(learner_settings.c.tenant)))
