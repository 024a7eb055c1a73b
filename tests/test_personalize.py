"""Personalisation: a shopper's profile from their events, the bounded personal phase, and the engine path."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vitrina.personalize.phase import PersonalPhase, price_fit
from vitrina.personalize.profile import Interaction, ShopperProfile, build_profile
from vitrina.rank.models import Explanation, RankedHit
from vitrina.rank.signals import RankContext
from vitrina.understand.models import ParsedQuery

NOW = datetime(2026, 11, 1, tzinfo=UTC)
RECORDS = {
    "n1": {"id": "n1", "brand": "Nike", "colors": ["Black"], "product_type": "Shoes", "price": 100.0},
    "n2": {"id": "n2", "brand": "Nike", "colors": ["White"], "product_type": "Shoes", "price": 120.0},
    "a1": {"id": "a1", "brand": "Adidas", "colors": ["Black"], "product_type": "Shoes", "price": 300.0},
}
VECTORS = {"n1": np.array([1.0, 0.0], np.float32), "n2": np.array([0.8, 0.6], np.float32),
           "a1": np.array([0.0, 1.0], np.float32)}


def test_a_profile_weights_purchases_over_clicks_and_recent_over_old():
    profile = build_profile("u", [
        Interaction(product_id="n1", type="purchase", at=NOW),
        Interaction(product_id="a1", type="click", at=NOW - timedelta(days=60)),
        Interaction(product_id="gone", type="purchase", at=NOW),  # no longer in the catalog: left out
    ], RECORDS, VECTORS, half_life_days=60, now=NOW)
    assert profile.interactions == 2
    # purchase 1.0 now vs click 0.3 x 0.5 (one half-life old)
    assert profile.brands == {"nike": pytest.approx(1 / 1.15, abs=1e-3), "adidas": pytest.approx(0.15 / 1.15, abs=1e-3)}
    assert profile.colors == {"black": 1.0} and profile.names["nike"] == "Nike"
    assert np.allclose(np.linalg.norm(profile.vector), 1.0) and profile.vector[0] > profile.vector[1]
    assert profile.log_price is not None and 100 < np.exp(profile.log_price) < 300


def test_no_interactions_make_an_unknown_profile():
    assert not build_profile("u", [], RECORDS, VECTORS).known


def test_price_fit_is_one_at_the_usual_price_and_falls_away():
    profile = ShopperProfile(user="u", interactions=3, log_price=float(np.log(100)), log_price_spread=0.1)
    assert price_fit(100, profile) == pytest.approx(1.0)
    assert price_fit(130, profile) > 0.6 > price_fit(300, profile)
    assert price_fit(None, profile) is None


def _hits(scores: dict[str, float]) -> list[RankedHit]:
    return [RankedHit(product=RECORDS[pid], score=s, explanation=Explanation()) for pid, s in scores.items()]


def _context(profile):
    return RankContext(parsed=ParsedQuery(raw="shoes", normalized="shoes"), shopper=profile)


def test_the_phase_orders_ties_by_the_shopper_and_says_why():
    profile = build_profile("u", [Interaction(product_id="n1", type="purchase", at=NOW),
                                  Interaction(product_id="n2", type="purchase", at=NOW)], RECORDS, VECTORS, now=NOW)
    phase = PersonalPhase(lambda ids: {i: VECTORS[i] for i in ids})
    hits = phase.rerank(_context(profile), _hits({"a1": 1.0, "n1": 1.0, "n2": 1.0}), deadline=0)
    assert hits[-1].product["id"] == "a1"
    top = hits[0].explanation
    assert top.personal and top.personal > 0 and "you often buy Nike" in top.personal_reasons


def test_the_phase_keeps_hits_the_query_ranks_far_apart():
    profile = build_profile("u", [Interaction(product_id="a1", type="purchase", at=NOW)], RECORDS, VECTORS, now=NOW)
    phase = PersonalPhase(lambda ids: {i: VECTORS[i] for i in ids})
    hits = phase.rerank(_context(profile), _hits({"n1": 1.0, "n2": 0.99, "a1": 0.2}), deadline=0)
    assert hits[-1].product["id"] == "a1"  # loved brand and colour, but far less relevant: stays last
    assert PersonalPhase(lambda ids: {}, strength=0).rerank(_context(profile), _hits({"n1": 1, "a1": 1}), 0)[0] \
        .product["id"] == "n1"


def test_anonymous_searches_are_plain_and_a_shopper_reorders_with_reasons(sample_engine):
    plain = sample_engine.search("dress", size=20)
    assert all(h.explanation.personal is None for h in plain.hits)
    assert all(p.name != "personal" for p in plain.phases)
    anonymous = sample_engine.search("dress", size=20, shopper=ShopperProfile(user="nobody"))
    assert [h.product["id"] for h in anonymous.hits] == [h.product["id"] for h in plain.hits]
    # a shopper who bought the lowest-ranked dresses' brand, several times
    last = plain.hits[-1].product
    bought = [h.product["id"] for h in plain.hits if h.product.get("brand") == last.get("brand")]
    profile = sample_engine.shopper_profile("u1", [Interaction(product_id=pid, type="purchase", at=NOW)
                                                   for pid in bought])
    mine = sample_engine.search("dress", size=20, shopper=profile)
    assert any(p.name == "personal" and p.status == "ran" for p in mine.phases)
    rank_before = [h.product["id"] for h in plain.hits].index(last["id"])
    rank_after = [h.product["id"] for h in mine.hits].index(last["id"])
    assert rank_after < rank_before
    moved = next(h for h in mine.hits if h.product["id"] == last["id"])
    assert f"you often buy {last['brand']}" in moved.explanation.personal_reasons


def test_the_service_personalises_a_signed_in_shopper_from_their_events_per_tenant(tmp_path, sample_engine):
    from fastapi.testclient import TestClient

    from vitrina.config import Settings
    from vitrina.serve.app import create_app
    from vitrina.serve.service import Service

    settings = Settings(service={"data_dir": tmp_path, "admin_key": "admin"}, api_key="key")
    service = Service.build(settings)
    service.bootstrap(sample_engine.path)
    headers, admin = {"Authorization": "Bearer key"}, {"Authorization": "Bearer admin"}
    with TestClient(create_app(service)) as client:
        def search(user=None):
            body = {"query": "dress", "size": 20, **({"user_id": user} if user else {})}
            response = client.post("/v1/default/search", json=body, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()["hits"]

        plain = search()
        last = plain[-1]["product"]
        bought = [h["product"]["id"] for h in plain if h["product"].get("brand") == last.get("brand")]
        events = [{"event_id": f"p{i}", "type": "purchase", "product_id": pid, "user_id": "shopper-1",
                   "timestamp": "2026-11-20T10:00:00Z", "price": 50, "currency": "USD"}
                  for i, pid in enumerate(bought)]
        stored = client.post("/v1/default/events", json={"events": events}, headers=headers).json()
        assert stored["stored"], stored["rejected"]
        assert all(h["explanation"]["personal"] is None for h in search("someone-new"))  # no events: plain
        mine = search("shopper-1")
        assert [h["product"]["id"] for h in mine].index(last["id"]) < len(plain) - 1
        moved = next(h for h in mine if h["product"]["id"] == last["id"])
        assert f"you often buy {last['brand']}" in moved["explanation"]["personal_reasons"]
        off = client.put("/v1/admin/tenants/default/personalization", json={"enabled": False}, headers=admin)
        assert off.status_code == 200 and off.json()["personalization"]["enabled"] is False
        assert [h["product"]["id"] for h in search("shopper-1")] == [h["product"]["id"] for h in plain]
        bad = client.put("/v1/admin/tenants/default/personalization", json={"strength": -1}, headers=admin)
        assert bad.status_code == 422 and "strength" in bad.text
    service.close()
