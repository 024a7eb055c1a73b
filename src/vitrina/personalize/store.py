"""A shopper's latest interactions, read from the service's event log."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import Engine, select

from vitrina.events.schema import events
from vitrina.personalize.profile import EVENT_WEIGHT, Interaction


def recent_interactions(db: Engine, tenant: str, user: str, limit: int) -> list[Interaction]:
    """The newest `limit` clicks, add-to-carts and purchases of one shopper (by user id), newest first."""
    with db.connect() as conn:
        rows = conn.execute(
            select(events.c.product_id, events.c.type, events.c.timestamp, events.c.price)
            .where(events.c.tenant == tenant, events.c.user_id == user, events.c.type.in_(list(EVENT_WEIGHT)))
            .order_by(events.c.id.desc()).limit(limit)).all()
    # SQLite gives back naive datetimes of what was stored in UTC
    return [Interaction(product_id=pid, type=kind, at=at if at.tzinfo else at.replace(tzinfo=UTC), price=price)
            for pid, kind, at, price in rows]
