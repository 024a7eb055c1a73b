"""The shopper simulator on the real sample engine: deterministic for a seed, held-out queries get no traffic,
and the learning it measures is real (learned beats static on the queries shoppers searched)."""

import hashlib

import pytest

from conftest import sample_settings
from vitrina.config import LearningSettings
from vitrina.engine import Engine
from vitrina.evaluate.simulate import Judged, Simulation
from vitrina.events.db import connect
from vitrina.learn.learner import Learner
from vitrina.learn.phase import LearnedPhase

pytestmark = pytest.mark.slow
QUERIES = ["linen shirts", "leather boots", "summer dresses", "running shoes", "wool sweaters", "denim jeans",
           "leather handbags", "formal shoes", "cotton tshirts", "winter jackets"]


def judged(engine: Engine) -> Judged:
    """Shoppers like half of what a query finds, for reasons its words do not say (a stable hash of the id):
    only their clicks can tell the ranking which half."""
    grades = {}
    for n, query in enumerate(QUERIES):
        found = [h.product["id"] for h in engine.search(query, size=30, profile="full").hits]
        grades[f"q{n}"] = {pid: 2.0 for pid in found if hashlib.sha256(pid.encode()).digest()[0] % 2}
    return Judged(texts={f"q{n}": q for n, q in enumerate(QUERIES)}, grades=grades, top_grade=2.0)


def simulate(tmp_path, sample_engine, encoder, vector_cache, name: str, seed: int):
    db = connect(f"sqlite:///{tmp_path / f'{name}.db'}")
    learner = Learner(db, "sim", LearningSettings(min_validation_searches=8))
    engine = Engine(sample_settings(sample_engine.path, vector_cache), encoder=encoder,
                    phases={"learned": LearnedPhase(learner)})
    simulation = Simulation(engine, db, learner, judged(engine), "sample", seed=seed)
    report = simulation.run(500, checkpoint=100, update_every=30, heldout_sample=None)
    with db.connect() as conn:
        searched = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT query FROM searches")}
    engine.close()
    db.dispose()
    return report, searched, simulation


def test_the_simulation_is_deterministic_and_learns(tmp_path, sample_engine, encoder, vector_cache):
    first, searched, simulation = simulate(tmp_path, sample_engine, encoder, vector_cache, "a", seed=3)
    again, _, _ = simulate(tmp_path, sample_engine, encoder, vector_cache, "b", seed=3)
    assert first.checkpoints == again.checkpoints and first.learned_ndcg == again.learned_ndcg
    held = {simulation.judged.texts[q] for q in simulation.traffic.heldout}
    assert len(held) == 2 and not held & searched  # a fifth of the queries never gets traffic
    assert first.updates > 3 and first.checkpoints[-1].model_version > 0
    assert first.learned_ndcg > first.static_ndcg + 0.05, first
    assert first.checkpoints[-1].served_ndcg > first.checkpoints[-1].static_ndcg
    assert all(c.served_ndcg >= c.static_ndcg - 0.02 for c in first.checkpoints)  # never much worse than static


def test_an_a_b_test_inside_the_simulation(tmp_path, sample_engine, encoder, vector_cache):
    from vitrina.experiments.models import Experiment, Variant

    db = connect(f"sqlite:///{tmp_path / 'ab.db'}")
    learner = Learner(db, "sim", LearningSettings(min_validation_searches=8))
    engine = Engine(sample_settings(sample_engine.path, vector_cache), encoder=encoder,
                    phases={"learned": LearnedPhase(learner)})
    experiment = Experiment(name="ab", variants=[Variant(name="static", profile="full"),
                                                 Variant(name="learned", profile="learned")])
    simulation = Simulation(engine, db, learner, judged(engine), "sample", seed=5, experiment=experiment)
    report = simulation.run(300, checkpoint=100, update_every=30, heldout_sample=None)
    engine.close()
    db.dispose()
    variants = {v.variant: v for v in report.experiment.variants}
    assert set(variants) == {"static", "learned"}
    assert variants["static"].searches > 50 and variants["learned"].searches > 50
    assert variants["static"].searches + variants["learned"].searches >= report.searches  # page 2 views come on top
    assert "conversion" in variants["learned"].against_control
