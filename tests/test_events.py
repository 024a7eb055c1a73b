"""The search log, events and attribution, against SQLite and a real PostgreSQL server."""

from datetime import UTC, datetime

import pytest

from vitrina.events.analytics import Analytics
from vitrina.events.db import connect
from vitrina.events.models import Impression, SearchRecord
from vitrina.events.store import EventStore

T0 = "2026-11-22T10:00:00Z"


@pytest.fixture
def store(database_url):
    engine = connect(database_url)
    yield EventStore(engine), Analytics(engine), engine.dialect.name
    engine.dispose()


def logged(store: EventStore, tenant: str, search_id: str, query: str, products: list[str]) -> None:
    store.log_search(tenant, SearchRecord(search_id=search_id, query=query, total=len(products), shown=[
        Impression(position=i, product_id=p) for i, p in enumerate(products, start=1)]))


def event(event_id, kind, product, search_id=None, position=None, **money):
    return {"event_id": event_id, "type": kind, "product_id": product, "search_id": search_id,
            "position": position, "timestamp": T0, **money}


def test_both_databases_are_real(store, database_url):
    _, _, dialect = store
    assert dialect == ("sqlite" if database_url.startswith("sqlite") else "postgresql")


def test_events_are_attributed_to_their_search_and_position(store):
    events, analytics, _ = store
    logged(events, "shop", "s1", "Navy Shirt", ["p1", "p2", "p3"])
    result = events.record_events("shop", [
        event("e1", "click", "p2", "s1", 2),
        event("e2", "add_to_cart", "p2", "s1", 2, price=20.0, currency="inr"),
        event("e3", "purchase", "p2", "s1", 2, quantity=2, price=20.0, margin=12.5, currency="INR"),
    ])
    assert result.stored == ["e1", "e2", "e3"] and not result.rejected and not result.unknown_search
    detail = analytics.search("shop", "s1")
    assert detail.query == "Navy Shirt"
    assert [(i["position"], i["product_id"]) for i in detail.shown] == [(1, "p1"), (2, "p2"), (3, "p3")]
    assert [(e["type"], e["position"]) for e in detail.events] == [("click", 2), ("add_to_cart", 2), ("purchase", 2)]
    purchase = detail.events[2]
    assert purchase["revenue"] == 40.0 and purchase["currency"] == "INR"  # revenue = price x quantity
    assert (detail.totals.clicks, detail.totals.add_to_carts, detail.totals.purchases) == (1, 1, 1)
    assert (detail.totals.units, detail.totals.revenue, detail.totals.margin) == (2, 40.0, 12.5)


def test_a_retried_event_is_stored_once(store):
    events, analytics, _ = store
    logged(events, "shop", "s1", "shirt", ["p1"])
    batch = [event("e1", "click", "p1", "s1", 1), event("e1", "click", "p1", "s1", 1)]
    first = events.record_events("shop", batch)
    again = events.record_events("shop", batch)
    assert first.stored == ["e1"] and first.duplicates == ["e1"]
    assert again.stored == [] and again.duplicates == ["e1", "e1"]
    assert analytics.summary("shop").events == 1
    # Event ids are per tenant: another shop may use the same id.
    assert events.record_events("other", [event("e1", "click", "p9")]).stored == ["e1"]


def test_invalid_events_are_rejected_with_reasons_and_valid_ones_kept(store):
    events, analytics, _ = store
    result = events.record_events("shop", [
        event("ok", "click", "p1"),
        {"event_id": "bad-type", "type": "like", "product_id": "p1", "timestamp": T0},
        {"event_id": "no-product", "type": "click", "timestamp": T0},
        event("bad-position", "click", "p1", position=0),
        event("no-money", "purchase", "p1"),
        event("no-currency", "add_to_cart", "p1", price=3.0),
        event("bad-time", "click", "p1") | {"timestamp": "yesterday"},
        event("ctrl\x00", "click", "p1"),
        event("extra", "click", "p1") | {"colour": "red"},
        "not an object",
    ])
    assert result.stored == ["ok"]
    reasons = {(r.event_id, r.field) for r in result.rejected}
    assert {("bad-type", "type"), ("no-product", "product_id"), ("bad-position", "position"),
            ("bad-time", "timestamp"), ("ctrl\x00", "event_id"), ("extra", "colour"), (None, "event")} <= reasons
    assert any(r.event_id == "no-money" and "revenue or price" in r.reason for r in result.rejected)
    assert any(r.event_id == "no-currency" and "currency" in r.reason for r in result.rejected)
    assert {r.index for r in result.rejected} == set(range(1, 10))
    assert analytics.summary("shop").events == 1


def test_unknown_search_ids_are_kept_and_flagged(store):
    events, analytics, _ = store
    logged(events, "a", "s-a", "shirt", ["p1"])
    result = events.record_events("b", [event("e1", "click", "p1", "s-a", 1),  # tenant a's search: unknown to b
                                        event("e2", "purchase", "p1", "missing", 1, price=5.0, currency="USD")])
    assert result.stored == ["e1", "e2"] and result.unknown_search == ["e1", "e2"]
    summary = analytics.summary("b")
    assert (summary.events, summary.attributed_events, summary.unattributed_events) == (2, 0, 2)
    assert summary.totals.revenue == 5.0  # kept in revenue, though not attributed to a search
    assert analytics.search("a", "s-a").events == []  # b's events never reach a's search
    assert analytics.search("b", "s-a") is None


def test_query_product_and_position_reports(store):
    events, analytics, _ = store
    logged(events, "shop", "s1", "Navy shirt", ["p1", "p2"])
    logged(events, "shop", "s2", "navy shirt ", ["p2", "p1"])
    logged(events, "shop", "s3", "boots", ["p3"])
    events.record_events("shop", [
        event("c1", "click", "p1", "s1", 1), event("c2", "click", "p2", "s1", 2),
        event("b1", "purchase", "p1", "s1", 1, price=10.0, margin=4.0, currency="USD"),
        event("a1", "add_to_cart", "p1", "s2", 2),
    ])
    by_query = {q.query: q for q in analytics.queries("shop")}
    navy = by_query["navy shirt"]
    assert (navy.searches, navy.clicked_searches, navy.ctr, navy.add_to_cart_rate, navy.conversion) == (
        2, 1, 0.5, 0.5, 0.5)
    assert (navy.revenue, navy.margin, navy.revenue_per_search, navy.margin_per_search) == (10.0, 4.0, 5.0, 2.0)
    assert by_query["boots"].ctr == 0.0 and by_query["boots"].searches == 1
    by_product = {p.product_id: p for p in analytics.products("shop")}
    assert (by_product["p1"].impressions, by_product["p1"].clicks, by_product["p1"].ctr) == (2, 1, 0.5)
    assert (by_product["p1"].add_to_carts, by_product["p1"].purchases, by_product["p1"].revenue) == (1, 1, 10.0)
    assert by_product["p3"].clicks == 0
    positions = {p.position: p for p in analytics.positions("shop")}
    assert (positions[1].impressions, positions[1].clicks, positions[1].ctr) == (3, 1, 0.3333)
    assert (positions[2].impressions, positions[2].clicks, positions[2].ctr) == (2, 1, 0.5)


def test_timestamps_are_stored_in_utc(store):
    events, analytics, _ = store
    logged(events, "shop", "s1", "shirt", ["p1"])
    events.record_events("shop", [event("e1", "click", "p1", "s1", 1) | {"timestamp": "2026-11-22T12:00:00+02:00"}])
    stamp = analytics.search("shop", "s1").events[0]["timestamp"]
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)  # SQLite keeps no zone: it is UTC
    assert stamp == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_events_without_a_timestamp_take_the_time_of_receipt_flagged(store):
    """What shops' pixels and Algolia's event API expect: no timestamp means now."""
    from datetime import UTC, datetime

    events, analytics, _ = store
    before = datetime.now(UTC)
    no_time = {k: v for k, v in event("late", "click", "p1").items() if k != "timestamp"}
    result = events.record_events("shop", [no_time, event("timed", "click", "p2")])
    assert result.stored == ["late", "timed"] and result.timestamped_on_receipt == ["late"]
    assert analytics.summary("shop").events == 2
    with events.engine.connect() as conn:
        stamp = conn.exec_driver_sql("SELECT timestamp FROM events WHERE event_id = 'late'").scalar()
    stamp = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    assert stamp.replace(tzinfo=UTC) >= before.replace(microsecond=0)
