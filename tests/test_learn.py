"""The learning loop: propensities, debiased evidence, the learner's update, check, persistence and rollback,
the learned phase in a real search, and the bad input it must shrug off."""

import logging
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import update

from vitrina.config import LearningSettings
from vitrina.events.db import connect
from vitrina.events.models import Impression, SearchRecord
from vitrina.events.schema import learner_models
from vitrina.events.store import EventStore
from vitrina.learn.evidence import Evidence
from vitrina.learn.learner import Learner
from vitrina.learn.objective import Objective
from vitrina.learn.phase import LearnedPhase
from vitrina.learn.propensity import fit_propensities
from vitrina.learn.window import load_window, query_key
from vitrina.learn.worker import Learners
from vitrina.rank.models import Explanation, RankedHit
from vitrina.rank.signals import RankContext
from vitrina.understand.models import ParsedQuery

pytestmark = pytest.mark.fast
QUERIES = {"q1": "red dress", "q2": "Running shoes", "q3": "linen shirt"}
SETTINGS = LearningSettings(min_validation_searches=10)  # the small logs here hold out ~20 searches with a click
BEST = {"q1": "P5", "q2": "P8", "q3": "P3"}  # what shoppers want, shown low by the static ranking


def log_traffic(db, tenant: str, searches: int, seed: int = 0, start: int = 0) -> None:
    """Static ranking P1..P10 for every query; shoppers look with 1/position and click what they want."""
    store, rng = EventStore(db), random.Random(seed)
    clock = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=start)
    for n in range(start, start + searches):
        qid = rng.choice(sorted(QUERIES))
        sid = f"{tenant}-s{n}"
        clock += timedelta(seconds=1)
        store.log_search(tenant, SearchRecord(search_id=sid, query=QUERIES[qid], user_id=f"u{n % 50}",
                                              created_at=clock, shown=[Impression(position=k, product_id=f"P{k}")
                                                                       for k in range(1, 11)]))
        events = []
        for k in range(1, 11):
            wanted = f"P{k}" == BEST[qid]
            if rng.random() < 1 / k and rng.random() < (0.8 if wanted else 0.03):
                events.append({"event_id": f"{sid}-c{k}", "type": "click", "product_id": f"P{k}",
                               "search_id": sid, "position": k, "user_id": f"u{n % 50}"})
                if wanted and rng.random() < 0.4:
                    events.append({"event_id": f"{sid}-b{k}", "type": "purchase", "product_id": f"P{k}",
                                   "search_id": sid, "position": k, "price": 20.0, "margin": 5.0, "currency": "EUR"})
        if events:
            assert not store.record_events(tenant, events).rejected


def hits(ids: list[str]) -> list[RankedHit]:
    return [RankedHit(product={"id": pid}, score=1.0 - i / 100, explanation=Explanation()) for i, pid in enumerate(ids)]


def context(query: str) -> RankContext:
    return RankContext(parsed=ParsedQuery(raw=query, normalized=query.lower()), query_vector=None)


@pytest.fixture
def db(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'service.db'}")
    yield engine
    engine.dispose()


def test_em_recovers_position_propensities_from_varied_rankings():
    rng = np.random.default_rng(7)
    true = 1 / np.arange(1, 11) ** 0.8
    n_pairs = 300
    attraction = rng.uniform(0.05, 0.9, n_pairs)
    positions, pairs, clicks = [], [], []
    for _ in range(20_000):
        shown = rng.choice(n_pairs, 10, replace=False)
        for k, pair in enumerate(shown, start=1):
            positions.append(k)
            pairs.append(pair)
            clicks.append(rng.random() < true[k - 1] * attraction[pair])
    fitted = fit_propensities(np.array(positions), np.array(pairs), np.array(clicks), 10)
    assert fitted[0] == 1.0
    assert np.abs(fitted - true).max() < 0.06, fitted.round(3)


def test_evidence_is_a_shrunk_debiased_lift():
    evidence = Evidence(strength=5.0, mean=0.1, queries={("red dress", "A"): [3.0, 10.0, 3, 0],
                                                         ("red dress", "B"): [0.0, 40.0, 0, 0],
                                                         ("red dress", "C"): [0.5, 1.0, 1, 0]})
    assert evidence.features("red dress", ("red", "dress"), "Z") == [0.0, 0.0, 0.0]
    a, b, c = (evidence.features("red dress", (), p)[0] for p in "ABC")
    assert a > c > 0 > b  # often chosen > chosen once (shrunk toward no lift) > shown a lot, never chosen


def test_signals_count_only_for_queries_without_history():
    from vitrina.learn.features import SIGNALS, feature_vector

    evidence = Evidence(strength=5.0, mean=0.1, queries={("red dress", "A"): [3.0, 10.0, 3, 0]})
    signals = {"semantic": 0.8, "lexical": 0.5}
    known = feature_vector(evidence, "red dress", ("red", "dress"), "B", signals)
    new = feature_vector(evidence, "blue dress", ("blue", "dress"), "B", signals)
    assert known[-len(SIGNALS):].tolist() == [0.0] * len(SIGNALS)
    assert new[-len(SIGNALS):].tolist()[:2] == [0.8, 0.5]


def test_the_window_learns_only_from_trusted_events(db):
    store = EventStore(db)
    store.log_search("t", SearchRecord(search_id="s1", query="Red  Dress!", user_id="u1",
                                       shown=[Impression(position=1, product_id="A"), Impression(position=2, product_id="B")]))
    batch = [{"event_id": "e1", "type": "click", "product_id": "A", "search_id": "s1", "position": 1},
             {"event_id": "e2", "type": "click", "product_id": "A", "search_id": "s1", "position": 1},  # repeated
             {"event_id": "e3", "type": "click", "product_id": "Z", "search_id": "s1"},  # never shown there
             {"event_id": "e4", "type": "click", "product_id": "A", "search_id": "nope"},  # unknown search
             {"event_id": "e5", "type": "purchase", "product_id": "B", "search_id": "s1", "revenue": 30,
              "margin": 9, "currency": "EUR"}]
    store.record_events("t", batch)
    store.record_events("t", batch[:1])  # a replayed event id is stored once
    for n in range(6):  # one shopper hammering one product across searches
        store.log_search("t", SearchRecord(search_id=f"f{n}", query="boots", user_id="bot",
                                           shown=[Impression(position=1, product_id="X")]))
        store.record_events("t", [{"event_id": f"fc{n}", "type": "click", "product_id": "X", "search_id": f"f{n}"}])
    window = load_window(db, "t", 1000, cap_per_user_product=3)
    first = next(s for s in window.searches if s.search_id == "s1")
    assert first.key == query_key("red dress") == "red dress"
    assert first.outcomes["A"].clicked and first.outcomes["B"].purchases == 1 and first.outcomes["B"].margin == 9
    assert sum(s.outcomes["X"].clicked for s in window.searches if "X" in s.outcomes) == 3
    assert window.ignored == {"repeated click": 1, "product not shown in that search": 1, "unknown search": 1,
                              "over the per-shopper cap": 3}
    assert window.learned_events == 2 + 3


def test_an_update_learns_what_shoppers_want_and_the_phase_serves_it(db):
    log_traffic(db, "shop", 600)
    learner = Learner(db, "shop", SETTINGS)
    report = learner.update()
    assert report.version == 1 and report.chosen == "new" and report.pairs > 0, report
    assert report.gate["new"] > report.gate["static"]
    phase = LearnedPhase(learner)
    served = phase.rerank(context("Red Dress"), hits([f"P{k}" for k in range(1, 11)]), deadline=0)
    assert served[0].product["id"] == "P5"
    assert served[0].explanation.learned > 0 and "for this query" in served[0].explanation.learned_from
    assert "purchase" in served[0].explanation.learned_from and served[0].explanation.learned_version == 1
    # Words carry over: a query never searched that shares a word with one that was.
    other = phase.rerank(context("shirt in linen"), hits([f"P{k}" for k in range(1, 11)]), deadline=0)
    assert [h.product["id"] for h in other].index("P3") < 2


def test_an_update_in_a_child_process_publishes_the_same_model_and_serves_it(db, tmp_path):
    """The service's updates run in a child process (their memory peak leaves with it): the parent serves what
    the child published, and learns exactly what an update in place would have from the same log."""
    twin = connect(f"sqlite:///{tmp_path / 'twin.db'}")
    for database in (db, twin):
        log_traffic(database, "shop", 600)
    child = Learner(db, "shop", SETTINGS)
    report = child.update_in_child()
    assert report.version == 1 and report.chosen == "new" and child.version == 1
    in_place = Learner(twin, "shop", SETTINGS).update()
    twin.dispose()
    assert report.weights == in_place.weights and report.pairs == in_place.pairs
    served = LearnedPhase(child).rerank(context("Red Dress"), hits([f"P{k}" for k in range(1, 11)]), deadline=0)
    assert served[0].product["id"] == "P5"
    assert Learner(db, "empty", SETTINGS).update_in_child().version is None


def test_no_model_or_no_evidence_keeps_the_static_order(db):
    learner = Learner(db, "empty", SETTINGS)
    assert learner.update().version is None  # nothing logged: nothing published
    given = hits(["A", "B", "C"])
    assert LearnedPhase(learner).rerank(context("anything"), given, deadline=0) == given


def test_the_model_persists_rolls_back_and_pauses(db):
    settings = SETTINGS
    log_traffic(db, "shop", 400)
    learner = Learner(db, "shop", settings)
    learner.update()
    log_traffic(db, "shop", 200, seed=1, start=400)
    learner.update()
    assert learner.version == 2
    restarted = Learner(db, "shop", settings)  # a restarted service serves what was served
    assert restarted.version == 2 and restarted.model.info.weights == learner.model.info.weights
    assert restarted.roll_back() == 1 and restarted.version == 1 and restarted.paused and not restarted.due()
    assert [v["status"] for v in restarted.store.versions()] == ["rolled_back", "served"]
    assert Learner(db, "shop", settings).paused  # the pause persists too
    restarted.resume()
    assert not restarted.paused and restarted.pending() > 0  # what v2 learned from is learned again


def test_a_variant_learner_keeps_its_objective_and_models_apart(db):
    """An experiment's `learned-margin` variant ranks by a margin learner over the same log; the tenant's own
    learner, its objective and its versions are untouched, and neither is made before a search needs it."""
    log_traffic(db, "shop", 400)
    learners = Learners(db, SETTINGS, logging.getLogger("vitrina.learn"))
    phases = learners.phases("shop")
    assert {"learned", "learned:margin", "learned:conversion"} <= set(phases)
    assert learners.of_variants("shop") == {}  # registering the phases makes no learner
    assert phases["learned:margin"].version == "shop/margin:0"  # first use makes it
    margin = learners.of_variants("shop")["margin"]
    assert margin.objective.name == "margin" and margin.update().version == 1
    own = learners.get("shop")
    assert own.version == 0 and own.objective.name == "conversion"  # the tenant's learner has learned nothing
    assert own.update().version == 1 and margin.version == 1
    margin.set_objective(Objective.named("margin"))  # a variant's settings are its own too
    assert Learner(db, "shop", SETTINGS).objective.name == "conversion"
    assert Learner(db, "shop", SETTINGS, objective="margin").version == 1  # and survive a restart
    served = phases["learned:margin"].rerank(context("red dress"), hits([f"P{k}" for k in range(1, 11)]), deadline=0)
    assert served[0].product["id"] == "P5" and served[0].explanation.learned_version == 1


def test_updates_come_no_sooner_than_the_minimum_interval(db):
    log_traffic(db, "shop", 300)
    settings = SETTINGS.model_copy(update={"update_every_events": 10, "min_update_interval_seconds": 60})
    learner = Learner(db, "shop", settings)
    assert learner.pending() > 10 and not learner.due()  # enough events, but the learner just started
    learner.last_update -= 61
    assert learner.due()


def test_corrupt_state_falls_back_to_static_with_a_warning(db, caplog):
    log_traffic(db, "shop", 400)
    Learner(db, "shop", SETTINGS).update()
    with db.begin() as conn:
        conn.execute(update(learner_models).values(state=b"not zlib at all"))
    with caplog.at_level(logging.WARNING, logger="vitrina.learn"):
        learner = Learner(db, "shop", SETTINGS)
    assert learner.model is None and "unreadable" in caplog.text
    given = hits(["P1", "P5"])
    assert LearnedPhase(learner).rerank(context("red dress"), given, deadline=0) == given
    assert learner.update().version == 2  # the next update rebuilds from the log


def test_objectives_value_what_they_say():
    conversion, margin = Objective.named("conversion"), Objective.named("margin")
    assert conversion.gain(True, True, 1) == pytest.approx(1.4)
    assert conversion.worth(3, 300.0, 90.0, 10.0, 2.0) == 1.0  # conversion does not weigh money
    rich = margin.worth(8, 80.0, 40.0, 10.0, 2.0)  # 8 sales earning 5 each against a mean of 2, shrunk by 2 sales
    assert rich == pytest.approx((40 + 2 * 2) / 10 / 2) and margin.gain(True, False, 1, rich) == pytest.approx(1.1 * rich)
    assert margin.worth(0, 0.0, 0.0, 10.0, 2.0) == 1.0  # never sold: the mean
    assert Objective.named("mix", click=1, margin=0.5).gain(True, False, 0, 2.0) == 2.0


def test_a_database_from_before_first_rank_opens_and_gains_the_column(tmp_path):
    import sqlite3
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE impressions (search_id VARCHAR(64), position INTEGER, tenant VARCHAR(64), "
                    "product_id VARCHAR(256), PRIMARY KEY (search_id, position))")
        old.execute("INSERT INTO impressions VALUES ('s0', 1, 't', 'A')")
    db = connect(f"sqlite:///{path}")
    log_traffic(db, "t", 5)
    with sqlite3.connect(path) as check:
        columns = [row[1] for row in check.execute("PRAGMA table_info(impressions)")]
        assert "first_rank" in columns and check.execute("SELECT count(*) FROM impressions").fetchone()[0] == 51
    db.dispose()
