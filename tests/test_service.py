"""The HTTP API through FastAPI's test client: tenants and keys, products, search, events, bad input."""

import json

import pytest
from fastapi.testclient import TestClient

from vitrina.config import Settings
from vitrina.serve.app import create_app
from vitrina.serve.service import Service

SHOP = [{"id": f"S{i}", "title": title, "price": price, "currency": "EUR", "product_type": kind}
        for i, (title, price, kind) in enumerate([
            ("Navy linen shirt for men", 49.0, "shirts"), ("White canvas sneakers", 59.0, "sneakers"),
            ("Black leather boots", 129.0, "boots"), ("Red summer dress", 79.0, "dresses")])]


@pytest.fixture(scope="module")
def service(sample_engine, tmp_path_factory):
    root = tmp_path_factory.mktemp("service")
    settings = Settings(service={"data_dir": root, "admin_key": "admin-secret", "max_body_bytes": 200_000},
                        api_key="default-secret")
    built = Service.build(settings)
    built.bootstrap(sample_engine.path)
    yield built
    built.close()


@pytest.fixture(scope="module")
def client(service):
    with TestClient(create_app(service)) as client:
        yield client


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


ADMIN, DEFAULT = auth("admin-secret"), auth("default-secret")


@pytest.fixture(scope="module")
def shops(client):
    """Two tenants made through the admin API, each with a small catalog of its own."""
    keys = {}
    for name in ("alpha", "beta"):
        made = client.post("/v1/admin/tenants", json={"name": name}, headers=ADMIN)
        assert made.status_code == 201, made.text
        keys[name] = made.json()
        products = [{**p, "id": f"{name}-{p['id']}"} for p in SHOP]
        landed = client.post(f"/v1/{name}/products", json=products, headers=auth(keys[name]["full_key"]))
        assert landed.status_code == 200 and landed.json()["upserted"] == 4, landed.text
    return keys


def test_search_returns_the_cli_shape_and_is_logged(client):
    r = client.post("/v1/default/search", json={"query": "navy cotton shirt for men", "size": 5, "page": 2,
                                                "user_id": "u1"}, headers=DEFAULT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"search_id", "hits", "facets", "understanding", "timings"} <= set(body)
    assert len(body["hits"]) == 5 and {"product", "score", "explanation"} <= set(body["hits"][0])
    assert body["understanding"]["types"] and body["timings"]["total"] > 0
    detail = client.get(f"/v1/default/analytics/searches/{body['search_id']}", headers=DEFAULT).json()
    assert detail["query"] == "navy cotton shirt for men" and detail["user_id"] == "u1"
    assert [s["position"] for s in detail["shown"]] == [6, 7, 8, 9, 10]  # positions count across pages
    assert [s["product_id"] for s in detail["shown"]] == [h["product"]["id"] for h in body["hits"]]


def test_events_round_trip_with_attribution(client):
    found = client.post("/v1/default/search", json={"query": "white sneakers for women"}, headers=DEFAULT).json()
    sid, hit = found["search_id"], found["hits"][1]["product"]
    batch = {"events": [
        {"event_id": f"{sid}-c", "type": "click", "search_id": sid, "product_id": hit["id"], "position": 2,
         "timestamp": "2026-11-22T10:00:00Z", "session_id": "sess"},
        {"event_id": f"{sid}-p", "type": "purchase", "search_id": sid, "product_id": hit["id"], "position": 2,
         "timestamp": "2026-11-22T10:01:00Z", "price": hit["price"], "margin": 10, "currency": "USD"},
        {"event_id": f"{sid}-x", "type": "click", "search_id": "no-such-search", "product_id": hit["id"],
         "timestamp": "2026-11-22T10:02:00Z"},
        {"event_id": f"{sid}-bad", "type": "click", "timestamp": "2026-11-22T10:02:00Z"},
    ]}
    r = client.post("/v1/default/events", json=batch, headers=DEFAULT)
    assert r.status_code == 200
    result = r.json()
    assert result["stored"] == [f"{sid}-c", f"{sid}-p", f"{sid}-x"]
    assert result["unknown_search"] == [f"{sid}-x"]
    assert result["rejected"] == [{"index": 3, "event_id": f"{sid}-bad", "field": "product_id",
                                   "reason": "Field required"}]
    assert client.post("/v1/default/events", json=batch, headers=DEFAULT).json()["duplicates"] == [
        f"{sid}-c", f"{sid}-p", f"{sid}-x"]
    detail = client.get(f"/v1/default/analytics/searches/{sid}", headers=DEFAULT).json()
    assert [(e["type"], e["position"]) for e in detail["events"]] == [("click", 2), ("purchase", 2)]
    assert detail["totals"]["revenue"] == hit["price"] and detail["totals"]["margin"] == 10
    queries = client.get("/v1/default/analytics/queries", headers=DEFAULT).json()
    assert any(q["query"] == "white sneakers for women" and q["conversion"] > 0 for q in queries)
    positions = client.get("/v1/default/analytics/positions", headers=DEFAULT).json()
    assert any(p["position"] == 2 and p["clicks"] >= 1 for p in positions)


def test_tenants_are_isolated(client, shops):
    alpha, beta = auth(shops["alpha"]["full_key"]), auth(shops["beta"]["full_key"])
    mine = client.post("/v1/alpha/search", json={"query": "navy shirt"}, headers=alpha)
    assert mine.status_code == 200 and all(h["product"]["id"].startswith("alpha-") for h in mine.json()["hits"])
    sid = mine.json()["search_id"]
    for method, path, body in [("post", "/v1/alpha/search", {"query": "shirt"}), ("get", "/v1/alpha/products/alpha-S0", None),
                               ("post", "/v1/alpha/products", [SHOP[0]]), ("delete", "/v1/alpha/products/alpha-S0", None),
                               ("post", "/v1/alpha/events", {"events": []}),
                               ("get", f"/v1/alpha/analytics/searches/{sid}", None),
                               ("get", "/v1/alpha/analytics/summary", None)]:
        r = client.request(method.upper(), path, json=body, headers=beta)
        assert r.status_code == 403, (method, path, r.text)
        assert "not valid for tenant 'alpha'" in r.json()["error"]
    # beta's event naming alpha's search lands in beta's stream, flagged, and never touches alpha's search.
    r = client.post("/v1/beta/events", headers=beta, json={"events": [
        {"event_id": "x1", "type": "click", "search_id": sid, "product_id": "alpha-S0", "timestamp": "2026-11-22T10:00:00Z"}]})
    assert r.json()["unknown_search"] == ["x1"]
    assert client.get(f"/v1/alpha/analytics/searches/{sid}", headers=alpha).json()["events"] == []
    assert client.get("/v1/beta/products/alpha-S0", headers=beta).status_code == 404


def test_keys_and_scopes(client, shops):
    public = auth(shops["alpha"]["public_key"])
    assert client.post("/v1/alpha/search", json={"query": "boots"}, headers=public).status_code == 200
    assert client.get("/v1/alpha/products/alpha-S2", headers=public).json()["title"] == "Black leather boots"
    assert client.post("/v1/alpha/products", json=[SHOP[0]], headers=public).status_code == 403
    assert client.get("/v1/alpha/analytics/summary", headers=public).status_code == 403
    assert client.post("/v1/admin/tenants", json={"name": "gamma"}, headers=public).status_code == 403
    assert client.post("/v1/alpha/search", json={"query": "x"}).status_code == 401
    assert client.post("/v1/alpha/search", json={"query": "x"}, headers=auth("wrong")).status_code == 401
    assert client.post("/v1/zeta/search", json={"query": "x"}, headers=ADMIN).status_code == 404
    assert client.post("/v1/admin/tenants", json={"name": "alpha"}, headers=ADMIN).status_code == 409
    assert client.post("/v1/admin/tenants", json={"name": "Bad Name!"}, headers=ADMIN).status_code == 422
    made = client.post("/v1/admin/tenants/alpha/keys", json={"scope": "public"}, headers=ADMIN)
    assert made.status_code == 201
    assert client.post("/v1/alpha/search", json={"query": "boots"}, headers=auth(made.json()["key"])).status_code == 200
    # The pixel's beacon cannot send headers: a key in the query string works for events only.
    key = shops["alpha"]["public_key"]
    assert client.post(f"/v1/alpha/events?key={key}", json={"events": []}).status_code == 200
    assert client.post(f"/v1/alpha/search?key={key}", json={"query": "boots"}).status_code == 401


def test_product_upsert_reports_bad_rows_and_keeps_good_ones(client, shops):
    key = auth(shops["beta"]["full_key"])
    lines = "\n".join([json.dumps({"id": "beta-N1", "title": "Green wool scarf", "price": 25, "currency": "EUR"}),
                       "{not json",
                       json.dumps({"id": "beta-N2", "title": "", "price": 10}),
                       json.dumps({"id": "beta-N3", "title": "Grey hoodie", "price": "cheap"}),
                       json.dumps({"id": "beta-N4", "title": "Blue jeans", "price": 60, "currency": "EUR"})])
    r = client.post("/v1/beta/products", content=lines, headers={**key, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["rows"] == 5 and report["upserted"] == 2
    problems = {(p["row"], p["field"]) for p in report["rejected"]}
    assert (2, "record") in problems and (3, "title") in problems and (4, "price") in problems
    assert client.get("/v1/beta/products/beta-N4", headers=key).json()["title"] == "Blue jeans"
    assert client.get("/v1/beta/products/beta-N3", headers=key).status_code == 404
    all_bad = client.post("/v1/beta/products", json=[{"id": "x", "title": ""}, 7], headers=key)
    assert all_bad.status_code == 422 and len(all_bad.json()["rejected"]) == 2
    assert client.delete("/v1/beta/products/beta-N4", headers=key).json() == {"deleted": "beta-N4"}
    assert client.get("/v1/beta/products/beta-N4", headers=key).status_code == 404
    assert client.delete("/v1/beta/products/beta-N4", headers=key).status_code == 404


def test_a_tenant_without_a_catalog_says_so(client):
    made = client.post("/v1/admin/tenants", json={"name": "empty"}, headers=ADMIN).json()
    r = client.post("/v1/empty/search", json={"query": "shirt"}, headers=auth(made["full_key"]))
    assert r.status_code == 409 and "no catalog yet" in r.json()["error"]


@pytest.mark.parametrize("send, status, says", [
    (dict(content=b'{"query": "shirt"', headers={"Content-Type": "application/json"}), 400, "JSON"),
    (dict(json={}), 422, "query"),
    (dict(json={"query": "shirt", "page": "two"}), 422, "page"),
    (dict(json={"query": ["shirt"]}), 422, "query"),
    (dict(json={"query": "shirt", "colour": "red"}), 422, "colour"),
    (dict(json={"query": "shirt", "size": 1000}), 422, "size"),
    (dict(json={"query": "x" * 10_000}), 422, "limit is 512"),
    (dict(json={"query": " \x00\x07 "}), 422, "empty"),
    (dict(json={"query": "shirt", "filters": {"weight": 3}}), 422, "cannot filter on 'weight'"),
    (dict(json={"query": "shirt", "filters": {"price": "abc"}}), 422, "filter 'price'"),
    (dict(json={"query": "shirt", "filters": {"in_stock": "yes"}}), 422, "filter 'in_stock'"),
    (dict(json={"query": "shirt", "size": 100, "page": 11}), 422, "result window"),
    (dict(json={"query": "shirt", "size": 101}), 422, "page size limit"),
    (dict(content=b"\xff\xfe", headers={"Content-Type": "application/json"}), 400, ""),
])
def test_bad_search_requests_get_clear_4xx(client, send, status, says):
    r = client.post("/v1/default/search", headers={**DEFAULT, **send.pop("headers", {})}, **send)
    assert r.status_code == status, r.text
    assert says in json.dumps(r.json())


def test_unicode_and_control_characters_in_a_query_are_searched(client):
    r = client.post("/v1/default/search", json={"query": "navy\u0000 shirt\u200b for men ☃ 👕 ünïcödé"},
                    headers=DEFAULT)
    assert r.status_code == 200 and r.json()["hits"]


def test_bad_event_batches_get_clear_4xx(client):
    for body, status in [(b"[1, 2", 400), (b'[{"event_id": "a"}]', 422), (b'{"events": "many"}', 422)]:
        r = client.post("/v1/default/events", content=body, headers={**DEFAULT, "Content-Type": "application/json"})
        assert r.status_code == status and r.json()["error"]
    too_many = {"events": [{"event_id": str(i)} for i in range(1001)]}
    assert client.post("/v1/default/events", json=too_many, headers=DEFAULT).status_code == 413
    only_bad = client.post("/v1/default/events", json={"events": [{"type": "click"}]}, headers=DEFAULT)
    assert only_bad.status_code == 422 and only_bad.json()["rejected"]


def test_huge_payloads_are_refused_with_413_and_nothing_is_written(client, shops):
    key = auth(shops["alpha"]["full_key"])
    before = client.get("/v1/alpha/analytics/summary", headers=key).json()
    huge = [{"id": f"H{i}", "title": "Huge " * 50, "price": 1, "currency": "EUR"} for i in range(2000)]
    r = client.post("/v1/alpha/products", json=huge, headers=key)
    assert r.status_code == 413 and "limit" in r.json()["error"]
    assert client.get("/v1/alpha/products/H0", headers=key).status_code == 404
    events = {"events": [{"event_id": f"h{i}", "type": "view", "product_id": "p" * 200,
                          "timestamp": "2026-11-22T10:00:00Z"} for i in range(900)]}
    assert client.post("/v1/alpha/events", json=events, headers=key).status_code == 413
    assert client.get("/v1/alpha/analytics/summary", headers=key).json() == before


def test_service_endpoints(client):
    assert client.get("/healthz").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    assert "/v1/{tenant}/search" in schema["paths"] and "/v1/{tenant}/events" in schema["paths"]
    pixel = client.get("/pixel.js")
    assert pixel.headers["content-type"].startswith("application/javascript") and "sendBeacon" in pixel.text
    page = client.get("/")
    assert 'data-testid="query"' in page.text and '"tenant": "default"' in page.text
    metrics = client.get("/metrics").text
    assert 'vitrina_http_requests_total{method="POST",route="/v1/{tenant}/search",status="200"}' in metrics
    assert 'vitrina_search_stage_seconds_count{stage="retrieve_vector"}' in metrics
    assert "vitrina_events_total" in metrics and "vitrina_errors_total" in metrics


def test_service_on_postgresql(postgres_server, sample_engine, tmp_path):
    """The same round trip with the service database on the real PostgreSQL server."""
    import sqlalchemy

    admin = sqlalchemy.create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS service_e2e")
        conn.exec_driver_sql("CREATE DATABASE service_e2e")
    admin.dispose()
    settings = Settings(service={"data_dir": tmp_path, "database_url": f"{postgres_server}/service_e2e"},
                        api_key="pg-key")
    service = Service.build(settings)
    service.bootstrap(sample_engine.path)
    with TestClient(create_app(service)) as client:
        found = client.post("/v1/default/search", json={"query": "black dress"}, headers=auth("pg-key")).json()
        sid, first = found["search_id"], found["hits"][0]["product"]
        r = client.post("/v1/default/events", headers=auth("pg-key"), json={"events": [
            {"event_id": "pg-1", "type": "add_to_cart", "search_id": sid, "product_id": first["id"], "position": 1,
             "timestamp": "2026-11-22T10:00:00Z"}]})
        assert r.json()["stored"] == ["pg-1"]
        detail = client.get(f"/v1/default/analytics/searches/{sid}", headers=auth("pg-key")).json()
        assert detail["shown"][0]["product_id"] == first["id"]
        assert detail["totals"]["add_to_carts"] == 1
    assert service.db.dialect.name == "postgresql"


def test_fashion_thumbnails_are_served_from_the_dataset_tars(tmp_path):
    from conftest import SHARED, need
    from vitrina.serve.images import ImageStore

    need(SHARED / "fashion" / "images-00.tar")
    images = ImageStore(SHARED / "fashion")
    found = images.read("15970.jpg")
    assert found is not None and found[1] == "image/jpeg" and found[0][:3] == b"\xff\xd8\xff"  # a JPEG
    assert images.read("../etc/passwd") is None and images.read("no-such.jpg") is None


@pytest.mark.slow
def test_vitrina_serve_starts_a_real_server(sample_engine, tmp_path):
    import os
    import subprocess
    import sys

    from conftest import free_port, wait_healthy

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "VITRINA_API_KEY"}
    server = subprocess.Popen([sys.executable, "-m", "vitrina.cli", "serve", "--index", str(sample_engine.path),
                               "--port", str(port), "--data-dir", str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
    finally:
        server.terminate()
        _, printed = server.communicate(timeout=30)
    key = next(line.rsplit(": ", 1)[1] for line in printed.splitlines() if line.startswith("tenant 'default' key"))
    assert key.startswith("vk_ful_")
    # The generated key was stored: a second server on the same data dir accepts it.
    settings = Settings(service={"data_dir": tmp_path})
    service = Service.build(settings)
    assert service.tenants.authenticate(key).tenant == "default"
    service.close()


def test_the_in_stock_filter_works_over_http(client):
    r = client.post("/v1/default/search", json={"query": "shirts", "filters": {"in_stock": True}}, headers=DEFAULT)
    assert r.status_code == 200 and r.json()["hits"]
    assert all(h["product"]["availability"] == "in_stock" for h in r.json()["hits"])


def test_routes_take_their_pieces_as_dependencies_a_test_can_swap(service):
    """The search route reads the settings through a dependency: an override changes them for one app."""
    from vitrina.serve.api import get_settings

    app = create_app(service)
    strict = service.settings.model_copy(update={"service": service.settings.service.model_copy(
        update={"max_page_size": 5})})
    app.dependency_overrides[get_settings] = lambda: strict
    with TestClient(app) as swapped:
        r = swapped.post("/v1/default/search", json={"query": "shirts", "size": 6}, headers=DEFAULT)
        assert r.status_code == 422 and "page size limit of 5" in r.json()["error"]
        assert swapped.post("/v1/default/search", json={"query": "shirts", "size": 5},
                            headers=DEFAULT).status_code == 200


def test_a_malformed_bearer_header_is_a_401(client):
    for header in ({"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, {}):
        r = client.post("/v1/default/search", json={"query": "shirts"}, headers=header)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_json_body_is_read_whatever_its_content_type(client, content_type):
    """`curl -d '{...}'` sends a form content type; the README's curl examples must work as written."""
    headers = {**DEFAULT, **({"Content-Type": content_type} if content_type else {})}
    r = client.post("/v1/default/search", content=b'{"query": "navy shirt", "size": 3}', headers=headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["hits"]) == 3
