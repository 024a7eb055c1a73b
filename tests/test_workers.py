"""Several processes serving one service (`vitrina serve --workers N`): each follows what the others publish."""

import os
import subprocess
import sys
import time

import httpx
import pytest
from test_learn import SETTINGS, log_traffic

from conftest import free_port, wait_healthy
from vitrina.catalog.product import Product
from vitrina.config import LearningSettings, Settings
from vitrina.events.db import connect
from vitrina.learn.learner import Learner
from vitrina.learn.worker import Learners
from vitrina.serve.logs import service_logger
from vitrina.serve.tenants import TenantRegistry


def test_a_learner_follows_what_another_process_published_and_rolled_back(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'shared.db'}")
    log_traffic(db, "shop", 600)
    learning, serving = Learner(db, "shop", SETTINGS), Learner(db, "shop", SETTINGS)
    published = learning.update()
    assert published.version and serving.version == 0
    serving.sync()
    assert serving.version == published.version and serving.model is not None
    assert serving.model.weights.tolist() == learning.model.weights.tolist()

    serving.roll_back()  # through a worker: the learning process must pause, and serve what is served now
    learning.sync()
    assert learning.paused and learning.version == serving.version != published.version
    assert not learning.due()
    serving.resume()
    learning.sync()
    assert not learning.paused


def test_the_learning_process_finds_every_tenant_and_variant_learner_a_worker_made(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'shared.db'}")
    logger = service_logger()
    Learners(db, LearningSettings(), logger).get("shop", "margin")  # a worker served a margin variant's search
    learning = Learners(db, LearningSettings(), logger)
    learning.discover(["shop", "other"])
    assert {(lr.tenant, lr.preset) for lr in learning.all()} == {("shop", None), ("other", None), ("shop", "margin")}


def test_a_worker_reopens_a_tenant_whose_settings_another_worker_changed(tmp_path, sample_engine, encoder):
    settings = Settings(service={"data_dir": tmp_path})
    db = connect(settings.service.database())
    from vitrina.events.schema import metadata

    metadata.create_all(db)
    one, two = TenantRegistry(db, settings, encoder=encoder), TenantRegistry(db, settings, encoder=encoder)
    one.ensure("shop", sample_engine.path)
    first = two.engine("shop")
    two.sync()
    assert two.opened() == {"shop": first}  # nothing changed: the engine stays open
    one.set_personalization("shop", {"strength": 2.0})
    two.sync()
    assert "shop" not in two.opened()
    assert two.engine("shop").settings.personalization.strength == 2.0
    two.close()
    one.close()


def test_a_worker_that_opened_a_tenant_before_its_first_catalog_finds_the_one_another_worker_published(
        tmp_path, encoder):
    """No wait for the follower: a search on the worker that opened the empty tenant sees the catalog at once."""
    settings = Settings(service={"data_dir": tmp_path})
    db = connect(settings.service.database())
    from vitrina.events.schema import metadata

    metadata.create_all(db)
    one, two = TenantRegistry(db, settings, encoder=encoder), TenantRegistry(db, settings, encoder=encoder)
    one.ensure("shop")
    empty = two.engine("shop")
    assert not empty.has_generation()
    one.engine("shop").ingest([Product(id="A1", title="Navy linen shirt", price=49, product_type="shirts")])
    assert two.engine("shop") is empty and empty.count() == 1
    assert [h.product["id"] for h in empty.search("shirt").hits] == ["A1"]
    two.close()
    one.close()


def _search(base: str, key: str, query: str) -> dict:
    r = httpx.post(base + "/v1/shop/search", json={"query": query, "size": 10},
                   headers={"Authorization": f"Bearer {key}"}, timeout=30)  # a new connection: any worker answers
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.slow
def test_two_worker_processes_serve_one_service_and_follow_each_other(tmp_path):
    port = free_port()
    env = {**os.environ, "VITRINA_SERVICE__ADMIN_KEY": "admin-secret", "VITRINA_API_KEY": "default-secret"}
    server = subprocess.Popen([sys.executable, "-m", "vitrina.cli", "serve", "--port", str(port), "--data-dir",
                               str(tmp_path), "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        admin = {"Authorization": "Bearer admin-secret"}
        created = httpx.post(base + "/v1/admin/tenants", json={"name": "shop"}, headers=admin, timeout=30)
        assert created.status_code == 201
        key = created.json()["full_key"]
        first = [{"id": "A1", "title": "Navy linen shirt for men", "price": 49, "product_type": "shirts"}]
        assert httpx.post(base + "/v1/shop/products", json=first, headers={"Authorization": f"Bearer {key}"},
                          timeout=60).json()["upserted"] == 1
        for _ in range(8):  # both workers open the tenant's engine on this generation
            assert [h["product"]["id"] for h in _search(base, key, "shirt")["hits"]] == ["A1"]

        second = [{"id": "B2", "title": "Olive linen shirt for men", "price": 55, "product_type": "shirts"}]
        assert httpx.post(base + "/v1/shop/products", json=second, headers={"Authorization": f"Bearer {key}"},
                          timeout=60).json()["upserted"] == 1
        time.sleep(3)  # follow_seconds is 1
        for _ in range(8):  # whichever worker answers has swapped in the new generation
            assert {h["product"]["id"] for h in _search(base, key, "linen shirt")["hits"]} == {"A1", "B2"}

        # Metrics are summed over the workers: every search above is counted once, whichever served it.
        scraped = httpx.get(base + "/metrics", timeout=10).text
        line = next(row for row in scraped.splitlines()
                    if row.startswith("vitrina_http_requests_total") and 'route="/v1/{tenant}/search"' in row)
        assert float(line.rsplit(" ", 1)[1]) == 16
    finally:
        server.terminate()
        _, printed = server.communicate(timeout=60)
    assert server.returncode == 0 or "Traceback" not in printed, printed[-3000:]


def test_workers_split_the_cores_among_their_query_encoders_unless_the_threads_are_set():
    from vitrina.serve.workers import worker_settings

    assert worker_settings(Settings(), workers=2, cores=2).encoder.threads == 1
    assert Settings().tuning.rerank_threads == 2
    assert worker_settings(Settings(), workers=2, cores=2).tuning.rerank_threads == 1
    assert worker_settings(Settings(), workers=1, cores=2).tuning.rerank_threads == 2
    assert worker_settings(Settings(tuning={"rerank_threads": 2}), workers=2, cores=2).tuning.rerank_threads == 2
    assert worker_settings(Settings(), workers=2, cores=8).encoder.threads == 4
    assert worker_settings(Settings(), workers=4, cores=2).encoder.threads == 1
    chosen = Settings(encoder={"threads": 3})
    assert worker_settings(chosen, workers=2, cores=2).encoder.threads == 3
    # What the workers read back from the spec is what the parent decided.
    spec = worker_settings(Settings(), workers=2, cores=2).model_dump(mode="json")
    assert Settings(**spec).encoder.threads == 1
