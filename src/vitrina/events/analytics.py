"""Attribution: what each search, query text, product and position earned, from the log and the events.

Only events whose search_id is in the log count toward a search; the rest are kept (and counted as
unattributed) so nothing disappears from revenue totals.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, case, distinct, func, select

from vitrina.events.schema import events, impressions, searches


class EventTotals(BaseModel):
    views: int = 0
    clicks: int = 0
    add_to_carts: int = 0
    purchases: int = 0
    units: int = 0
    revenue: float = 0.0
    margin: float = 0.0


class SearchDetail(BaseModel):
    search_id: str
    query: str
    user_id: str | None
    session_id: str | None
    filters: dict | None
    created_at: Any
    took_ms: float
    shown: list[dict]  # {"position", "product_id"}
    events: list[dict]
    totals: EventTotals


class QueryStats(BaseModel):
    query: str
    searches: int
    clicked_searches: int
    ctr: float  # searches with at least one click / searches
    add_to_cart_rate: float
    conversion: float  # searches with a purchase / searches
    revenue: float
    margin: float
    revenue_per_search: float
    margin_per_search: float


class ProductStats(BaseModel):
    product_id: str
    impressions: int
    clicks: int
    ctr: float
    add_to_carts: int
    purchases: int
    revenue: float
    margin: float


class PositionStats(BaseModel):
    position: int
    impressions: int
    clicks: int
    ctr: float


class Summary(BaseModel):
    searches: int
    events: int
    attributed_events: int
    unattributed_events: int  # search_id absent from the log, or no search_id at all
    totals: EventTotals = Field(default_factory=EventTotals)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _counted(kind: str):
    return func.sum(case((events.c.type == kind, 1), else_=0))


def _totals_columns():
    return (_counted("view"), _counted("click"), _counted("add_to_cart"), _counted("purchase"),
            func.sum(case((events.c.type == "purchase", events.c.quantity), else_=0)),
            func.coalesce(func.sum(case((events.c.type == "purchase", events.c.revenue), else_=0.0)), 0.0),
            func.coalesce(func.sum(case((events.c.type == "purchase", events.c.margin), else_=0.0)), 0.0))


def search_outcome_columns():
    """Aggregates over one search's events (group by search): clicked, carted, bought (0 or 1), revenue, margin."""
    def happened(kind: str):
        return func.max(case((events.c.type == kind, 1), else_=0))

    def earned(column):
        return func.coalesce(func.sum(case((events.c.type == "purchase", column), else_=0.0)), 0.0)

    return (happened("click").label("clicked"), happened("add_to_cart").label("carted"),
            happened("purchase").label("bought"), earned(events.c.revenue).label("revenue"),
            earned(events.c.margin).label("margin"))


def _totals(row) -> EventTotals:
    values = [v or 0 for v in row]
    return EventTotals(views=values[0], clicks=values[1], add_to_carts=values[2], purchases=values[3], units=values[4],
                       revenue=round(float(values[5]), 2), margin=round(float(values[6]), 2))


class Analytics:
    def __init__(self, engine: Engine):
        self.engine = engine

    def search(self, tenant: str, search_id: str) -> SearchDetail | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(searches).where(searches.c.tenant == tenant,
                                                      searches.c.search_id == search_id)).mappings().first()
            if row is None:
                return None
            shown = conn.execute(select(impressions.c.position, impressions.c.product_id)
                                 .where(impressions.c.search_id == search_id)
                                 .order_by(impressions.c.position)).mappings().all()
            mine = and_(events.c.tenant == tenant, events.c.search_id == search_id)
            happened = conn.execute(select(events.c.event_id, events.c.type, events.c.product_id, events.c.position,
                                           events.c.timestamp, events.c.quantity, events.c.revenue, events.c.margin,
                                           events.c.currency).where(mine).order_by(events.c.timestamp,
                                                                                     events.c.id)).mappings().all()
            totals = conn.execute(select(*_totals_columns()).where(mine)).one()
        return SearchDetail(search_id=search_id, query=row["query"], user_id=row["user_id"],
                            session_id=row["session_id"], filters=row["filters"], created_at=row["created_at"],
                            took_ms=row["took_ms"], shown=[dict(r) for r in shown],
                            events=[dict(r) for r in happened], totals=_totals(totals))

    def queries(self, tenant: str, limit: int = 50) -> list[QueryStats]:
        """Per query text (lowercased, trimmed): how often it led to clicks, carts and purchases."""
        per_search = (select(searches.c.search_id, func.lower(func.trim(searches.c.query)).label("query"),
                             *search_outcome_columns())
                      .select_from(searches.outerjoin(events, and_(events.c.search_id == searches.c.search_id,
                                                                   events.c.tenant == tenant)))
                      .where(searches.c.tenant == tenant)
                      .group_by(searches.c.search_id, searches.c.query).subquery())
        stmt = (select(per_search.c.query, func.count().label("searches"), func.sum(per_search.c.clicked),
                       func.sum(per_search.c.carted), func.sum(per_search.c.bought), func.sum(per_search.c.revenue),
                       func.sum(per_search.c.margin))
                .group_by(per_search.c.query).order_by(func.count().desc(), per_search.c.query).limit(limit))
        out = []
        with self.engine.connect() as conn:
            for query, n, clicked, carted, bought, revenue, margin in conn.execute(stmt):
                revenue, margin = float(revenue or 0), float(margin or 0)
                out.append(QueryStats(query=query, searches=n, clicked_searches=clicked or 0,
                                      ctr=_ratio(clicked or 0, n), add_to_cart_rate=_ratio(carted or 0, n),
                                      conversion=_ratio(bought or 0, n), revenue=round(revenue, 2),
                                      margin=round(margin, 2), revenue_per_search=round(revenue / n, 4),
                                      margin_per_search=round(margin / n, 4)))
        return out

    def products(self, tenant: str, limit: int = 50) -> list[ProductStats]:
        shown = (select(impressions.c.product_id, func.count().label("impressions"))
                 .where(impressions.c.tenant == tenant).group_by(impressions.c.product_id).subquery())
        acted = (select(events.c.product_id, *[c.label(n) for c, n in zip(_totals_columns(), (
            "views", "clicks", "carts", "purchases", "units", "revenue", "margin"), strict=False)])
                 .where(events.c.tenant == tenant).group_by(events.c.product_id).subquery())
        stmt = (select(shown.c.product_id, shown.c.impressions, acted.c.clicks, acted.c.carts, acted.c.purchases,
                       acted.c.revenue, acted.c.margin)
                .select_from(shown.outerjoin(acted, acted.c.product_id == shown.c.product_id))
                .order_by(func.coalesce(acted.c.revenue, 0).desc(), shown.c.impressions.desc(), shown.c.product_id)
                .limit(limit))
        with self.engine.connect() as conn:
            return [ProductStats(product_id=pid, impressions=n, clicks=clicks or 0, ctr=_ratio(clicks or 0, n),
                                 add_to_carts=carts or 0, purchases=bought or 0, revenue=round(float(revenue or 0), 2),
                                 margin=round(float(margin or 0), 2))
                    for pid, n, clicks, carts, bought, revenue, margin in conn.execute(stmt)]

    def positions(self, tenant: str, deepest: int = 50) -> list[PositionStats]:
        """CTR by position: clicks attributed to a search at a position / times that position was shown."""
        shown = (select(impressions.c.position, func.count().label("n")).where(impressions.c.tenant == tenant)
                 .group_by(impressions.c.position).subquery())
        clicked = (select(events.c.position, func.count(distinct(events.c.event_id)).label("clicks"))
                   .where(events.c.tenant == tenant, events.c.type == "click", events.c.known_search)
                   .group_by(events.c.position).subquery())
        stmt = (select(shown.c.position, shown.c.n, clicked.c.clicks)
                .select_from(shown.outerjoin(clicked, clicked.c.position == shown.c.position))
                .where(shown.c.position <= deepest).order_by(shown.c.position))
        with self.engine.connect() as conn:
            return [PositionStats(position=p, impressions=n, clicks=c or 0, ctr=_ratio(c or 0, n))
                    for p, n, c in conn.execute(stmt)]

    def summary(self, tenant: str) -> Summary:
        with self.engine.connect() as conn:
            n_searches = conn.scalar(select(func.count()).select_from(searches).where(searches.c.tenant == tenant))
            mine = events.c.tenant == tenant
            n_events = conn.scalar(select(func.count()).select_from(events).where(mine))
            attributed = conn.scalar(select(func.count()).select_from(events).where(mine, events.c.known_search))
            totals = conn.execute(select(*_totals_columns()).where(mine)).one()
        return Summary(searches=n_searches or 0, events=n_events or 0, attributed_events=attributed or 0,
                       unattributed_events=(n_events or 0) - (attributed or 0), totals=_totals(totals))
