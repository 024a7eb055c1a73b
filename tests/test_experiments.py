"""A/B experiments: stable assignment, per-variant results with intervals and tests that find a real
difference and stay quiet without one, and the whole of it over the real HTTP service."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from vitrina.config import Settings
from vitrina.experiments.interleave import team_draft, votes
from vitrina.experiments.models import Experiment, Variant
from vitrina.experiments.report import _proportions, _welch
from vitrina.serve.app import create_app
from vitrina.serve.service import Service

KEY = {"Authorization": "Bearer default-secret"}
AB = {"name": "learned-vs-static", "variants": [{"name": "static", "profile": "full"},
                                                 {"name": "learned", "profile": "learned"}]}


@pytest.mark.fast
def test_assignment_is_stable_and_follows_the_shares():
    experiment = Experiment(name="x", variants=[Variant(name="a", profile="full", share=3),
                                                Variant(name="b", profile="learned", share=1)])
    picks = [experiment.assign(f"user{n}").name for n in range(4000)]
    assert picks == [experiment.assign(f"user{n}").name for n in range(4000)]
    assert 0.72 < picks.count("a") / len(picks) < 0.78
    other = Experiment(name="y", variants=experiment.variants)  # another test splits shoppers afresh
    assert [other.assign(f"user{n}").name for n in range(4000)] != picks


@pytest.mark.fast
def test_an_a_a_test_finds_no_difference_and_a_real_one_is_found():
    rates, means = [], []
    for seed in range(400):  # enough A/A tests for the false alarm rate itself to be measured, not guessed
        rng = np.random.default_rng(seed)
        a, b = rng.random(3000) < 0.06, rng.random(3000) < 0.06
        rates.append(_proportions(a.astype(float), b.astype(float)) < 0.05)
        means.append(_welch(rng.exponential(20, 3000) * a, rng.exponential(20, 3000) * b) < 0.05)
    assert np.mean(rates) <= 0.065 and np.mean(means) <= 0.065  # calibrated: about 5% at p < 0.05
    rng = np.random.default_rng(99)
    control, better = rng.random(5000) < 0.06, rng.random(5000) < 0.08
    assert _proportions(control.astype(float), better.astype(float)) < 0.05


@pytest.fixture
def client(sample_engine, tmp_path):
    settings = Settings(service={"data_dir": tmp_path, "admin_key": "admin-secret"}, api_key="default-secret")
    service = Service.build(settings)
    service.bootstrap(sample_engine.path)
    with TestClient(create_app(service)) as client:
        yield client


@pytest.mark.slow
def test_an_experiment_over_http(client):
    assert client.post("/v1/default/experiments", json={**AB, "name": "bad", "variants": [
        {"name": "a", "profile": "full"}, {"name": "b", "profile": "nope"}]}, headers=KEY).status_code == 422
    made = client.post("/v1/default/experiments", json=AB, headers=KEY)
    assert made.status_code == 201, made.text
    assert client.post("/v1/default/experiments", json={**AB, "name": "second"}, headers=KEY).status_code == 409
    seen: dict[str, str] = {}
    for n in range(60):
        user = f"shopper{n % 20}"
        body = client.post("/v1/default/search", json={"query": "navy shirt", "user_id": user}, headers=KEY).json()
        variant = body["experiment"]["variant"]
        assert seen.setdefault(user, variant) == variant  # a shopper stays in one variant
        assert body["profile"] == {"static": "full", "learned": "learned"}[variant]
        if variant == "learned":  # in this test the learned variant sells, the static one never does
            pid = body["hits"][0]["product"]["id"]
            client.post("/v1/default/events", json={"events": [
                {"event_id": f"c{n}", "type": "click", "product_id": pid, "search_id": body["search_id"]},
                {"event_id": f"p{n}", "type": "purchase", "product_id": pid, "search_id": body["search_id"],
                 "price": 30, "margin": 9, "currency": "EUR"}]}, headers=KEY)
    anonymous = client.post("/v1/default/search", json={"query": "navy shirt"}, headers=KEY).json()
    assert anonymous["experiment"] is None  # no user id: not in the test
    report = client.get("/v1/default/experiments/learned-vs-static", headers=KEY).json()
    by_name = {v["variant"]: v for v in report["variants"]}
    assert by_name["static"]["searches"] + by_name["learned"]["searches"] == 60
    assert by_name["static"]["metrics"]["conversion"]["value"] == 0
    assert by_name["learned"]["metrics"]["conversion"]["value"] == 1
    assert by_name["learned"]["against_control"]["conversion"]["significant"]
    assert by_name["learned"]["against_control"]["margin_per_search"]["difference"] == pytest.approx(9)
    stopped = client.post("/v1/default/experiments/learned-vs-static/stop", headers=KEY).json()
    assert stopped["status"] == "stopped"
    after = client.post("/v1/default/search", json={"query": "navy shirt", "user_id": "shopper1"}, headers=KEY)
    assert after.json()["experiment"] is None


@pytest.mark.fast
def test_team_draft_takes_turns_and_never_repeats():
    first, second = ["a", "b", "c", "d"], ["b", "e", "a", "f"]
    merged = team_draft(first, second, 6, seed="s1")
    ids = [pid for pid, _ in merged]
    assert len(ids) == len(set(ids)) == 6
    counts = [sum(1 for _, t in merged[:n] if t == 0) - sum(1 for _, t in merged[:n] if t == 1) for n in (2, 4, 6)]
    assert all(abs(c) <= 1 for c in counts)  # the teams stay level, pair by pair
    assert merged == team_draft(first, second, 6, seed="s1")
    assert {pid for pid, t in merged if t == 0} <= set(first) and {pid for pid, t in merged if t == 1} <= set(second)
    assert votes({"a": "x", "b": "y"}, ["a", "a", "b", "z"]) == {"x": 1, "y": 1}


@pytest.mark.slow
def test_an_interleaving_experiment_over_http(client):
    variants = [{"name": "hybrid", "profile": "full"}, {"name": "keywords", "profile": "bm25"}]
    made = client.post("/v1/default/experiments", json={"name": "tdi", "kind": "interleave", "variants": variants},
                       headers=KEY)
    assert made.status_code == 201, made.text
    clicked = 0
    for n, query in enumerate(["navy shirt", "leather boots", "summer dress", "wool sweater"] * 5):
        body = client.post("/v1/default/search", json={"query": query}, headers=KEY).json()
        assert body["experiment"] == {"experiment": "tdi", "variant": "interleaved"} and len(body["hits"]) == 10
        hybrid = client.post("/v1/default/search", json={"query": query, "profile": "full"}, headers=KEY).json()
        hybrid_ids = {h["product"]["id"] for h in hybrid["hits"]}
        # Shoppers here click only what the keyword ranking alone placed: the keyword variant must win.
        only_keywords = [h["product"]["id"] for h in body["hits"] if h["product"]["id"] not in hybrid_ids]
        if only_keywords:
            clicked += 1
            client.post("/v1/default/events", json={"events": [{"event_id": f"t{n}", "type": "click",
                         "product_id": only_keywords[0], "search_id": body["search_id"]}]}, headers=KEY)
    result = client.get("/v1/default/experiments/tdi", headers=KEY).json()["interleaving"]
    assert clicked >= 10 and result["searches"] == 20
    assert result["wins"] == {"hybrid": 0, "keywords": clicked} and result["significant"]
    assert client.post("/v1/default/experiments", json={"name": "three", "kind": "interleave", "variants": [
        *variants, {"name": "third", "profile": "vector"}]}, headers=KEY).status_code == 422
