"""Writing the search log and events: validated one by one, idempotent by event id, nothing dropped silently."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from vitrina.events.models import Event, EventBatchResult, RejectedEvent, SearchRecord
from vitrina.events.schema import events, impressions, searches


def _insert_ignoring_duplicates(engine: Engine, table):
    """INSERT ... ON CONFLICT DO NOTHING in the engine's dialect (both SQLite and PostgreSQL speak it)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


class EventStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def log_search(self, tenant: str, record: SearchRecord) -> None:
        """The search and every position it showed, in one transaction."""
        created = record.created_at or datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(searches.insert().values(
                search_id=record.search_id, tenant=tenant, query=record.query, user_id=record.user_id,
                session_id=record.session_id, filters=record.filters, page=record.page, size=record.size,
                total=record.total, took_ms=record.took_ms, created_at=created))
            if record.shown:
                conn.execute(impressions.insert(), [
                    {"search_id": record.search_id, "position": i.position, "tenant": tenant,
                     "product_id": i.product_id, "first_rank": i.first_rank, "signals": i.signals}
                    for i in record.shown])

    def record_events(self, tenant: str, batch: list[Any]) -> EventBatchResult:
        """Valid events are stored (once per event_id), invalid ones come back with index, field and reason."""
        result = EventBatchResult(received=len(batch))
        valid: dict[str, Event] = {}
        for index, raw in enumerate(batch):
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            if not isinstance(raw, dict):
                result.rejected.append(RejectedEvent(index=index, field="event", reason="an event must be a JSON object"))
                continue
            try:
                event = Event.model_validate(raw)
            except ValidationError as exc:
                for problem in exc.errors():
                    field = ".".join(str(p) for p in problem["loc"]) or "event"
                    result.rejected.append(RejectedEvent(index=index, event_id=str(event_id) if event_id else None,
                                                         field=field, reason=problem["msg"]))
                continue
            if event.event_id in valid:
                result.duplicates.append(event.event_id)  # repeated inside the batch
                continue
            valid[event.event_id] = event
        if not valid:
            return result
        received_at = datetime.now(UTC)
        with self.engine.begin() as conn:
            asked = {e.search_id for e in valid.values() if e.search_id}
            known = set(conn.scalars(select(searches.c.search_id).where(
                searches.c.tenant == tenant, searches.c.search_id.in_(asked)))) if asked else set()
            rows = [{**e.model_dump(), "timestamp": e.timestamp or received_at, "tenant": tenant,
                     "received_at": received_at, "known_search": e.search_id in known} for e in valid.values()]
            stmt = _insert_ignoring_duplicates(self.engine, events).returning(events.c.event_id)
            stored = set(conn.scalars(stmt, rows))
        for event in valid.values():
            if event.event_id not in stored:
                result.duplicates.append(event.event_id)
                continue
            result.stored.append(event.event_id)
            if event.timestamp is None:
                result.timestamped_on_receipt.append(event.event_id)
            if event.search_id and event.search_id not in known:
                result.unknown_search.append(event.event_id)
        return result

    def stored_event_ids(self, tenant: str, event_ids: list[str]) -> set[str]:
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(event_ids), 500):
                chunk = event_ids[start:start + 500]
                found |= set(conn.scalars(select(events.c.event_id).where(
                    events.c.tenant == tenant, events.c.event_id.in_(chunk))))
        return found
