import numpy as np
import pytest

from vitrina.config import RankingWeights
from vitrina.index.protocol import Scored
from vitrina.rank.ranker import Ranker
from vitrina.rank.signals import constraint_score, quality_score
from vitrina.retrieve.fusion import reciprocal_rank_fusion
from vitrina.retrieve.models import Candidate
from vitrina.understand.parser import QueryParser
from vitrina.understand.rules import load_rules


def test_weighted_rrf_by_hand():
    lists = {"bm25": [Scored(id="a", score=9), Scored(id="b", score=5)],
             "vector": [Scored(id="b", score=0.9), Scored(id="c", score=0.8), Scored(id="a", score=0.1)]}
    fused = reciprocal_rank_fusion(lists, {"bm25": 0.4, "vector": 0.6}, k=60)
    by_id = {c.id: c for c in fused}
    assert by_id["a"].fused == pytest.approx(0.4 / 61 + 0.6 / 63)
    assert by_id["b"].fused == pytest.approx(0.4 / 62 + 0.6 / 61)
    assert by_id["c"].fused == pytest.approx(0.6 / 62)
    assert [c.id for c in fused] == ["b", "a", "c"]
    assert by_id["b"].ranks == {"bm25": 2, "vector": 1}


@pytest.fixture(scope="module")
def parser():
    return QueryParser(load_rules("fashion"))


def product(**kw):
    base = {"id": "p", "title": "Shirt", "price": 1000.0, "product_type": "Shirts", "colors": ["Navy Blue"],
            "materials": ["Cotton"], "gender": "men"}
    return {**base, **kw}


def test_constraint_penalties_follow_the_table(parser):
    q = parser.parse("navy cotton shirt under 1200")
    q.price.catalog_max = 1200
    assert constraint_score(product(), q)[0] == 1.0
    assert constraint_score(product(colors=["Red"]), q)[0] == pytest.approx(0.8)
    assert constraint_score(product(colors=["Red"], materials=["Silk"]), q)[0] == pytest.approx(0.65)
    score, _, penalties = constraint_score(product(price=1500.0), q)
    assert score == pytest.approx(0.7) and "above budget" in penalties[0]
    assert constraint_score(product(colors=["Red", "Navy Blue"]), q)[0] == pytest.approx(0.9)  # secondary colour


def test_quality_weighs_review_confidence():
    assert quality_score({"rating": 5.0, "review_count": 2}) < quality_score({"rating": 4.5, "review_count": 500})
    assert quality_score({}) == 0.5


def test_ranker_drops_hard_violations_and_explains(parser):
    q = parser.parse("mens shirts not checked under 2000")
    q.price.catalog_max = 2000
    products = {"ok": (product(id="ok", pattern="Solid"), np.ones(4, np.float32) / 2),
                "checked": (product(id="checked", pattern="Checked"), np.ones(4, np.float32) / 2),
                "pricey": (product(id="pricey", price=5000.0), np.ones(4, np.float32) / 2),
                "tee": (product(id="tee", product_type="Tshirts"), np.ones(4, np.float32) / 2)}
    cands = [Candidate(id=i, ranks={"vector": n + 1}, scores={"bm25": 1.0}) for n, i in enumerate(products)]
    hits = Ranker(RankingWeights()).rank(q, cands, products, np.ones(4, np.float32) / 2)
    assert [h.product["id"] for h in hits] == ["ok", "tee"]
    top = hits[0].explanation
    assert set(top.signals) == {"semantic", "lexical", "constraint", "metadata", "quality"}
    assert "type: Shirts" in top.matches and "within budget" in top.matches
    assert any("not asked for" in p for p in hits[1].explanation.penalties)
    assert hits[0].score == pytest.approx(sum(top.contributions.values()), abs=1e-3)
