"""The LLM layer in the service: a tenant's own LLM settings, its counters in /metrics, and the chat endpoint's
stream (the model played by a scripted stand-in endpoint; the real one is in test_chat_browser.py)."""

import json

import pytest
from fastapi.testclient import TestClient

from vitrina.config import Settings
from vitrina.serve.app import create_app
from vitrina.serve.service import Service

pytestmark = pytest.mark.fast
ADMIN = {"Authorization": "Bearer admin-secret"}
SHOP = [{"id": f"L{i}", "title": title, "price": price, "currency": "EUR", "product_type": kind, "gender": "men"}
        for i, (title, price, kind) in enumerate([
            ("Navy linen shirt", 49.0, "shirts"), ("White running shoes", 89.0, "sports shoes"),
            ("Grey running shoes", 69.0, "sports shoes"), ("Black track pants", 39.0, "track pants")])]


@pytest.fixture
def client(tmp_path):
    settings = Settings(service={"data_dir": tmp_path, "admin_key": "admin-secret"}, learning={"enabled": False})
    service = Service.build(settings)
    service.bootstrap()  # the admin key
    with TestClient(create_app(service)) as client:
        yield client
    service.close()


def shop(client, name: str, llm: dict | None = None) -> dict:
    made = client.post("/v1/admin/tenants", json={"name": name, **({"llm": llm} if llm else {})}, headers=ADMIN)
    assert made.status_code == 201, made.text
    keys = made.json()
    full = {"Authorization": f"Bearer {keys['full_key']}"}
    assert client.post(f"/v1/{name}/products", json=SHOP, headers=full).json()["upserted"] == 4
    return full


def events(response) -> list[dict]:
    return [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]


def test_a_tenant_has_its_own_llm_and_counters(client, scripted_llm):
    base = f"http://127.0.0.1:{scripted_llm.server_address[1]}/v1"
    reading = {"intent": "gift", "products": ["running shoes"], "occasions": [], "styles": [], "seasons": [],
               "attributes": [], "expansions": [], "facets": ["price"]}
    scripted_llm.script = [(200, json.dumps(reading))]
    key = shop(client, "runner", {"enabled": True, "base_url": base, "model": "shop-model", "budget_ms": 10_000,
                                  "rerank_depth": 0, "retries": 0})
    plain = shop(client, "plain")
    found = client.post("/v1/runner/search", json={"query": "a present for my brother"}, headers=key).json()
    assert found["understanding"]["llm"]["status"] == "used" and found["understanding"]["llm"]["model"] == "shop-model"
    assert scripted_llm.received[0]["model"] == "shop-model"
    assert client.post("/v1/plain/search", json={"query": "a present"}, headers=plain).json()["understanding"]["llm"] is None
    metrics = client.get("/metrics").text
    assert 'vitrina_llm_calls_total{tenant="runner"} 1.0' in metrics
    assert 'vitrina_llm_prompt_tokens_total{tenant="runner"} 30.0' in metrics
    bad = client.put("/v1/admin/tenants/runner/llm", json={"budget_ms": -1}, headers=ADMIN)
    assert bad.status_code == 422 and "budget_ms" in bad.json()["error"]
    assert client.put("/v1/admin/tenants/nobody/llm", json={}, headers=ADMIN).status_code == 404
    changed = client.put("/v1/admin/tenants/runner/llm", json={"enabled": False}, headers=ADMIN)
    assert changed.status_code == 200 and "api_key" not in changed.json()["llm"]
    again = client.post("/v1/runner/search", json={"query": "a present for my brother"}, headers=key).json()
    assert again["understanding"]["llm"] is None


def test_chat_streams_tool_products_reply_and_logs_its_search(client):
    key = shop(client, "chatty")  # no LLM: the rules stand in for the model
    r = client.post("/v1/chatty/chat", json={"messages": [{"role": "user", "content": "running shoes under 80"}]},
                    headers=key)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    steps = events(r)
    assert [s["type"] for s in steps] == ["tool", "products", "reply", "done"]
    shown = [p["id"] for p in steps[1]["products"]]
    assert shown[0] == "L2" and "L1" not in shown  # the rules read "under 80": the 89 EUR pair is out
    assert steps[2]["product_ids"][0] == "L2" and steps[2]["source"] == "rules"
    logged = client.get(f"/v1/chatty/analytics/searches/{steps[1]['search_id']}", headers=key)
    assert logged.status_code == 200 and logged.json()["query"] == "running shoes under 80"
    wrong = client.post("/v1/chatty/chat", json={"messages": [{"role": "assistant", "content": "hi"}]}, headers=key)
    assert wrong.status_code == 422
    assert client.post("/v1/chatty/chat", json={"messages": []}, headers=key).status_code == 422
