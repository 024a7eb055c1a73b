"""The static encoder distilled from the packaged MiniLM: real weights, real distillation (once per session),
vectors that mean what MiniLM's do, and a tenant of the real service that ingests and searches with it."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from vitrina.config import EncoderSettings, Settings
from vitrina.embed import static
from vitrina.embed.registry import make_encoder
from vitrina.serve.app import create_app
from vitrina.serve.service import Service

pytestmark = pytest.mark.slow
SHOP = [{"id": f"S{i}", "title": title, "price": price, "currency": "EUR", "product_type": kind}
        for i, (title, price, kind) in enumerate([
            ("Navy linen shirt for men", 49.0, "shirts"), ("White canvas sneakers", 59.0, "sneakers"),
            ("Black leather boots", 129.0, "boots"), ("Red summer dress", 79.0, "dresses"),
            ("Cordless drill with two batteries", 99.0, "drills")])]


@pytest.fixture(scope="session")
def static_path(tmp_path_factory):
    return tmp_path_factory.mktemp("static-encoder")


@pytest.fixture(scope="session")
def static_encoder(static_path):
    encoder = make_encoder(EncoderSettings(backend="static-minilm", static_path=static_path))
    assert encoder.table.shape == (30522, 256)  # distilled here, once: under a minute on 2 cores
    return encoder


def test_static_vectors_are_unit_length_deterministic_and_mean_something(static_encoder, static_path):
    texts = [p["title"] for p in SHOP]
    vectors = static_encoder.encode(texts)
    assert vectors.shape == (5, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, static_encoder.encode(texts))
    queries = static_encoder.encode(["blue shirt", "trainers", "boots", "dress for summer", "power tool"])
    assert list((queries @ vectors.T).argmax(axis=1)) == [0, 1, 2, 3, 4]
    assert static_encoder.encode([""]).shape == (1, 256) and static_encoder.encode([]).shape == (0, 256)
    assert static_encoder.model_id.startswith("static:256:onnx:")


def test_the_distilled_table_is_kept_and_reloaded(static_encoder, static_path, monkeypatch):
    assert len(list(static_path.glob("*.npy"))) == 1 and not list(static_path.glob("*.tmp.npy"))

    def no_distilling(*_):
        raise AssertionError("the kept table should have been loaded")

    monkeypatch.setattr(static, "distill", no_distilling)
    again = make_encoder(EncoderSettings(backend="static-minilm", static_path=static_path))
    assert np.array_equal(again.table, static_encoder.table)


def test_a_tenant_ingests_and_searches_with_the_static_encoder(sample_engine, tmp_path, static_encoder, static_path):
    settings = Settings(service={"data_dir": tmp_path, "admin_key": "admin-secret"}, api_key="default-secret",
                        encoder={"static_path": static_path})
    service = Service.build(settings)
    service.bootstrap(sample_engine.path)
    admin = {"Authorization": "Bearer admin-secret"}
    with TestClient(create_app(service)) as client:
        bad = client.post("/v1/admin/tenants", json={"name": "quick", "encoder": "nope"}, headers=admin)
        assert bad.status_code == 422 and "static-minilm" in bad.text
        made = client.post("/v1/admin/tenants", json={"name": "quick", "encoder": "static-minilm"}, headers=admin)
        assert made.status_code == 201, made.text
        key = {"Authorization": f"Bearer {made.json()['full_key']}"}
        landed = client.post("/v1/quick/products", json=SHOP, headers=key)
        assert landed.status_code == 200 and landed.json()["upserted"] == 5, landed.text
        hits = client.post("/v1/quick/search", json={"query": "trainers"}, headers=key).json()["hits"]
        assert hits and hits[0]["product"]["id"] == "S1"  # no shared word: the vectors found it
        meta = service.tenants.engine("quick").store.meta()
        assert meta.model_id == static_encoder.model_id and meta.dimension == 256
        # The default tenant keeps the service's encoder.
        assert service.tenants.engine("default").store.meta().model_id.startswith("onnx:")
    service.close()
