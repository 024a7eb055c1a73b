"""`vitrina bench --quick` as a smoke test: the real engine on 1,000 real products, every figure present."""

import json

import pytest
from typer.testing import CliRunner

from conftest import FASHION, need
from vitrina.cli import app
from vitrina.evaluate.bench import percentiles, replicate

pytestmark = pytest.mark.slow


def test_percentiles_on_a_hand_made_list():
    # numpy.percentile (linear interpolation between closest ranks)
    assert percentiles(list(range(1, 101))) == {"p50": 50.5, "p95": 95.05, "p99": 99.01}
    assert percentiles([]) == {}


def test_replicas_keep_their_text_and_change_ids_and_prices():
    from vitrina.catalog.product import Product

    base = [Product(id="a", title="Navy Cotton Shirt", price=100.0, currency="INR", rating=4.0)]
    made = list(replicate(base, 3))
    assert [p.id for p in made] == ["a", "a-r1", "a-r2"]
    assert all(p.title == "Navy Cotton Shirt" for p in made)
    assert all(80 <= p.price <= 120 for p in made) and made[1].price != made[2].price


def test_quick_bench_end_to_end(tmp_path, vector_cache):
    need(FASHION)
    # Its work folder holds the session's vector cache: the real demo's test reuses the products they share.
    result = CliRunner().invoke(app, ["bench", "--size", "quick", "--queries", "60", "--work", str(vector_cache.parent),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    figures = json.loads((tmp_path / "out" / "bench-quick.json").read_text())
    assert figures["products"] == 1000 and figures["queries"] == 60
    new = figures["latency_ms"]["new"]
    for stage in ("understand", "embed", "retrieve_bm25", "retrieve_vector", "fuse", "rank", "total"):
        assert new[stage]["p50"] <= new[stage]["p99"]
    assert figures["latency_ms"]["repeated"]["total"]["p50"] < new["total"]["p50"]
    assert figures["ingest"]["products_per_s"] > 0 and figures["index_size_mb"] > 0
    # A cold cache: the ingest's own 1,000 encodes time the encoder; a warm one: a sample of 256 is encoded for it.
    timed_by = "ingest" if figures["ingest"]["newly_encoded"] >= 256 else "sample"
    assert figures["encoder"]["timed_by"] == timed_by and figures["encoder"]["texts_per_s"] > 0
    assert figures["throughput_qps"]["2_clients"] > 0 and figures["baseline"]["latency_ms"]["p50"] > 0
    learned = figures["learned_stage"]  # a model learned from simulated shoppers, its phase timed
    assert learned["model_version"] >= 1 and learned["evidence_pairs"] > 0 and learned["phase_ms"]["p50"] > 0
    assert "| learned stage ≤ 2 ms p50 |" in (tmp_path / "out" / "bench-quick.md").read_text()
    llm = figures["llm_stage"]  # the LLM on with a budget of 0: every query new to it, none waiting for it
    assert llm["queries"] == 60 and sum(llm["statuses"].values()) >= 1
    assert set(llm["statuses"]) <= {"pending", "failed", "skipped"}
    assert "| LLM on (budget 0): p99 within 5 ms of off |" in (tmp_path / "out" / "bench-quick.md").read_text()
    assert "| target | measured | met |" in (tmp_path / "out" / "bench-quick.md").read_text()
