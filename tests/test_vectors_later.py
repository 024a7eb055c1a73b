"""Searchable now, vectors later: an ingest that publishes products without vectors (found by words and filters
at once), then fills them a generation at a time; a fill cut short resumes from the vector cache."""

import time

import pytest
from fastapi.testclient import TestClient

from conftest import sample_settings
from vitrina.config import Settings
from vitrina.engine import Engine
from vitrina.serve.app import create_app
from vitrina.serve.service import Service

pytestmark = pytest.mark.slow  # each test encodes the sample (or a third of it) with MiniLM into a cold cache


@pytest.fixture
def cold_engine(tmp_path, encoder):
    """An engine whose vector cache is empty, so nothing is known before it is encoded."""
    engine = Engine(sample_settings(tmp_path / "index", tmp_path / "cold-vectors.sqlite"), encoder=encoder)
    yield engine
    engine.close()


@pytest.fixture
def sample_third(tmp_path, sample_feed):
    """Every third product of the sample (120): what a fill does needs no more, and MiniLM encodes each anew."""
    third = tmp_path / "third.jsonl"
    third.write_text("".join(sample_feed.read_text().splitlines(keepends=True)[::3]))
    return third


def test_products_are_searchable_by_words_at_once_and_by_meaning_after_the_fill(cold_engine, sample_engine,
                                                                                 sample_feed):
    report = cold_engine.ingest(sample_feed, fresh=True, vectors="later")
    assert report.upserted == 360 and report.vectors_later == 360 and report.embedded == 0
    assert cold_engine.count() == 360 and cold_engine.missing_vectors() == 360
    early = cold_engine.search("red dress not short", size=10)
    assert early.hits and early.confidence == "high"  # BM25 and the rules answer before any vector exists
    assert all("dress" in (h.product.get("product_type") or "").lower() for h in early.hits[:5])
    seen = []
    fill = cold_engine.fill_vectors(batch=100, progress=lambda done, total: seen.append((done, total)))
    assert fill.filled == 360 and fill.generations == 4 and seen[-1] == (360, 360)
    assert cold_engine.missing_vectors() == 0
    after = [h.product["id"] for h in cold_engine.search("red dress not short", size=10).hits]
    assert after == [h.product["id"] for h in sample_engine.search("red dress not short", size=10).hits]


def test_a_fill_cut_short_keeps_what_it_published_and_resumes_without_encoding_again(cold_engine, sample_third):
    cold_engine.ingest(sample_third, fresh=True, vectors="later")

    def crash(done, total):
        raise KeyboardInterrupt  # the process is stopped after its first batch is published

    with pytest.raises(KeyboardInterrupt):
        cold_engine.fill_vectors(batch=50, progress=crash)
    assert cold_engine.missing_vectors() == 70 and cold_engine.count() == 120
    rest = cold_engine.fill_vectors(batch=50)
    assert rest.filled == 70 and cold_engine.missing_vectors() == 0
    again = cold_engine.ingest(sample_third, fresh=True, vectors="later")  # the same catalog anew: all cached
    assert again.vectors_later == 0 and cold_engine.missing_vectors() == 0


def test_the_service_fills_vectors_in_the_background_and_reports_progress(tmp_path, sample_third):
    settings = Settings(service={"data_dir": tmp_path, "admin_key": "admin-secret"}, learning={"enabled": False},
                        encoder={"cache_path": tmp_path / "cold-vectors.sqlite"})
    service = Service.build(settings)
    service.bootstrap()
    with TestClient(create_app(service)) as client:
        made = client.post("/v1/admin/tenants", json={"name": "shop"}, headers={"Authorization": "Bearer admin-secret"})
        key = {"Authorization": f"Bearer {made.json()['full_key']}"}
        landed = client.post("/v1/shop/products?vectors=later", content=sample_third.read_bytes(), headers=key)
        assert landed.status_code == 200 and landed.json()["vectors_later"] == 120
        found = client.post("/v1/shop/search", json={"query": "white sneakers"}, headers=key).json()
        assert found["hits"]  # at once, by words
        deadline = time.monotonic() + 120
        while (progress := client.get("/v1/shop/vectors", headers=key).json())["running"]:
            assert time.monotonic() < deadline, progress
            time.sleep(0.2)
        assert progress["missing"] == 0 and progress["filled"] == 120 and progress["total"] == 120
        assert progress["error"] is None
    service.close()
