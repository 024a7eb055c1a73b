"""A warm start: an engine opened for serving has built what its first search needs, and has settled the heap so
that full garbage collections (once 100-200 ms stalls of 3% of searches) no longer walk its long-lived objects."""

import gc

import pytest
from fastapi.testclient import TestClient

from conftest import sample_settings
from vitrina.config import Settings
from vitrina.engine import Engine
from vitrina.serve.app import create_app
from vitrina.serve.service import Service

pytestmark = pytest.mark.fast


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()  # leave the test process as it was


def test_an_engine_opened_warm_has_its_first_search_ready_and_its_heap_settled(sample_engine, encoder, vector_cache,
                                                                              unfrozen):
    gc.unfreeze()
    engine = Engine(sample_settings(sample_engine.path, vector_cache, warm_on_open=True, gc_young_threshold=5000),
                    encoder=encoder)
    speller = engine.parser().speller
    assert "_index" in speller.__dict__  # the spelling index was built at open, not on the first unknown word
    assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == 5000
    first = engine.search("navy shirt")
    assert first.hits and "cache" not in first.timings
    gc.collect()
    # the spelling index's deletes are immutable strings: the collector stops tracking them
    assert not gc.is_tracked(speller._index._deletes)
    assert speller.correct("shrit") == "shirt"
    engine.close()


def test_a_cold_engine_builds_lazily(sample_engine, encoder, vector_cache):
    engine = Engine(sample_settings(sample_engine.path, vector_cache), encoder=encoder)
    assert "_index" not in engine.parser().speller.__dict__
    engine.close()


def test_the_service_opens_its_tenants_engines_at_start(sample_engine, tmp_path, unfrozen):
    settings = Settings(service={"data_dir": tmp_path, "admin_key": "admin-secret"}, api_key="default-secret")
    service = Service.build(settings)
    service.bootstrap(sample_engine.path)
    assert not service.tenants._engines
    with TestClient(create_app(service)):
        engine = service.tenants._engines["default"]
        assert "_index" in engine.parser().speller.__dict__
    service.close()
