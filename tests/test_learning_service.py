"""The learning loop in the real service: searches and events over HTTP, the background worker updating the
tenant's model, the learned order and its explanation in the next search, objective and rollback by API."""

import random
import time

import pytest
from fastapi.testclient import TestClient
from test_learn import SETTINGS, log_traffic

from vitrina.config import Settings
from vitrina.events.db import connect
from vitrina.learn.learner import Learner
from vitrina.serve.app import create_app
from vitrina.serve.service import Service

KEY = {"Authorization": "Bearer default-secret"}
QUERIES = ["navy shirt", "white sneakers", "summer dress"]


def shop(client, searches: int, seed: int = 0) -> dict[str, str]:
    """Shoppers who want the 6th result of each query: they click and buy it when they look that far."""
    rng, wanted = random.Random(seed), {}
    for n in range(searches):
        query = QUERIES[n % len(QUERIES)]
        r = client.post("/v1/default/search", json={"query": query, "user_id": f"u{n % 40}"}, headers=KEY)
        assert r.status_code == 200, r.text
        body = r.json()
        ids = [h["product"]["id"] for h in body["hits"]]
        wanted.setdefault(query, ids[5])
        events = []
        for position, pid in enumerate(ids, start=1):
            hit = pid == wanted[query]
            if rng.random() < 1 / position ** 0.5 and rng.random() < (0.85 if hit else 0.03):
                events.append({"event_id": f"e{seed}-{n}-{position}", "type": "click", "product_id": pid,
                               "search_id": body["search_id"], "position": position, "user_id": f"u{n % 40}"})
                if hit:
                    events.append({"event_id": f"b{seed}-{n}-{position}", "type": "purchase", "product_id": pid,
                                   "search_id": body["search_id"], "position": position, "price": 10,
                                   "currency": "EUR"})
        if events:
            assert client.post("/v1/default/events", json={"events": events}, headers=KEY).status_code == 200
    return wanted


@pytest.fixture
def learning_client(sample_engine, tmp_path):
    settings = Settings(service={"data_dir": tmp_path, "admin_key": "admin-secret"}, api_key="default-secret",
                        learning={"update_every_events": 40, "update_every_seconds": 3600,
                                  "min_update_interval_seconds": 0,
                                  "min_validation_searches": 2})  # search ids are random: a small held-out half
    service = Service.build(settings)
    service.bootstrap(sample_engine.path)
    with TestClient(create_app(service)) as client:
        yield client, service


@pytest.mark.slow
def test_the_service_learns_in_the_background_and_explains_it(learning_client):
    client, service = learning_client
    status = client.get("/v1/default/learning", headers=KEY).json()
    assert status["version"] == 0 and status["objective"]["name"] == "conversion"
    wanted = shop(client, 240)
    deadline = time.monotonic() + 30
    while client.get("/v1/default/learning", headers=KEY).json()["version"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the worker polls every second and updates every 40 new events
    status = client.get("/v1/default/learning", headers=KEY).json()
    assert status["version"] >= 1, status
    report = client.post("/v1/default/learning/update", headers=KEY).json()  # and on demand
    assert report["chosen"] in ("new", "kept") and report["weights"]["query"] > 0, report
    body = client.post("/v1/default/search", json={"query": "navy shirt"}, headers=KEY).json()
    top = body["hits"][0]
    assert top["product"]["id"] == wanted["navy shirt"]
    assert top["explanation"]["learned"] > 0 and "for this query" in top["explanation"]["learned_from"]
    assert any(p["name"] == "learned" and p["status"] == "ran" for p in body["phases"])
    static = client.post("/v1/default/search", json={"query": "navy shirt", "profile": "full"}, headers=KEY).json()
    assert [h["product"]["id"] for h in static["hits"]].index(wanted["navy shirt"]) == 5  # the static order stays
    # A variant that ranks toward another objective: its learner is made by the first search of its profile and
    # the worker updates it like the tenant's own.
    variant = client.post("/v1/default/search", json={"query": "navy shirt", "profile": "learned-margin"}, headers=KEY)
    assert variant.status_code == 200
    deadline = time.monotonic() + 30
    while not client.get("/v1/default/learning", headers=KEY).json()["variant_versions"].get("margin") and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.get("/v1/default/learning", headers=KEY).json()["variant_versions"]["margin"] >= 1
    # The objective is the tenant's, and a rollback serves the version before and pauses updates.
    changed = client.put("/v1/default/learning/objective", json={"name": "margin"}, headers=KEY).json()
    assert changed["objective"]["name"] == "margin" and changed["objective"]["margin"] == 1.0
    assert client.put("/v1/default/learning/objective", json={"name": "mix", "weights": {"likes": 1}},
                      headers=KEY).status_code == 422
    before = client.get("/v1/default/learning", headers=KEY).json()["version"]
    rolled = client.post("/v1/default/learning/rollback", headers=KEY).json()
    assert rolled["paused"] and rolled["version"] < before
    assert client.post("/v1/default/learning/resume", headers=KEY).json()["paused"] is False
    assert client.post("/v1/default/search", json={"query": "navy shirt", "profile": "nope"},
                       headers=KEY).status_code == 422


def test_learner_state_survives_a_restart_on_every_database(database_url):
    """SQLite and the real PostgreSQL server: the served model, its weights and its evidence come back whole."""
    db = connect(database_url)
    log_traffic(db, "shop", 400)
    learner = Learner(db, "shop", SETTINGS)
    assert learner.update().version == 1
    again = Learner(db, "shop", SETTINGS)
    assert again.version == 1 and again.model.info.weights == learner.model.info.weights
    assert again.model.evidence.queries == learner.model.evidence.queries
    db.dispose()
