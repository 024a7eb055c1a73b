"""Frequently bought together: products carted or bought by the same shoppers as one product, from the tenant's
own event log (a shopper is their user id, else their session). Most shared shoppers first; among equals (most
pairs are seen once), the more often bought."""

from __future__ import annotations

from sqlalchemy import Engine, distinct, func, select

from vitrina.events.schema import events

BASKET_EVENTS = ("add_to_cart", "purchase")
CANDIDATES = 500  # co-purchased products read before the tie-break


def bought_together(db: Engine, tenant: str, product_id: str, limit: int = 10) -> list[tuple[str, int]]:
    """(product id, how many shoppers carted or bought both), best first."""
    shopper = func.coalesce(events.c.user_id, events.c.session_id)
    basket = (select(shopper).where(events.c.tenant == tenant, events.c.product_id == product_id,
                                    events.c.type.in_(BASKET_EVENTS), shopper.is_not(None))
              .scalar_subquery())
    shoppers = func.count(distinct(shopper))
    together = (select(events.c.product_id, shoppers)
                .where(events.c.tenant == tenant, events.c.type.in_(BASKET_EVENTS), events.c.product_id != product_id,
                       shopper.in_(basket))
                .group_by(events.c.product_id).order_by(shoppers.desc()).limit(CANDIDATES))
    with db.connect() as conn:
        pairs = {pid: int(n) for pid, n in conn.execute(together).all()}
        if not pairs:
            return []
        overall: dict[str, int] = dict(conn.execute(
            select(events.c.product_id, func.count())
            .where(events.c.tenant == tenant, events.c.type.in_(BASKET_EVENTS), events.c.product_id.in_(list(pairs)))
            .group_by(events.c.product_id)).all())
    ranked = sorted(pairs, key=lambda pid: (-pairs[pid], -int(overall.get(pid, 0)), pid))
    return [(pid, pairs[pid]) for pid in ranked[:limit]]
