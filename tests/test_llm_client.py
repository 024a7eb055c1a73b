"""The OpenAI-compatible client: schema-checked answers, cache, retries, circuit breaker, metrics.

Faults are scripted on a real local HTTP server (a stand-in speaking the chat-completions protocol); the same client
against the real llama.cpp server is in test_llm_local.py."""

import json
import threading
import time

import pytest

from vitrina.config import LLMSettings
from vitrina.llm.breaker import CircuitBreaker, CircuitOpen
from vitrina.llm.client import ChatClient, InvalidAnswer, LLMError, schema_of
from vitrina.understand.llm import QueryReading

pytestmark = pytest.mark.fast

READING = {"intent": "gift", "products": ["watches"], "occasions": [], "styles": [], "seasons": [],
           "attributes": [], "expansions": ["watch"], "facets": ["brand"]}


def client_for(server, tmp_path, **changes) -> ChatClient:
    settings = LLMSettings(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", model="m", api_key="sekret",
                           retries=1, breaker_failures=2, **changes)
    return ChatClient(settings, cache_path=tmp_path / "llm.sqlite")


MESSAGES = [{"role": "user", "content": "Query: a gift for my father"}]


def test_a_valid_answer_is_parsed_cached_and_counted(scripted_llm, tmp_path):
    client = client_for(scripted_llm, tmp_path)
    scripted_llm.script = [(200, json.dumps(READING))]
    first = client.structured(MESSAGES, QueryReading)
    again = client.structured(MESSAGES, QueryReading)
    assert first == again and first.products == ["watches"]
    assert len(scripted_llm.received) == 1  # the second came from the cache
    sent = scripted_llm.received[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sekret" and sent["model"] == "m"
    assert sent["temperature"] == 0.0 and sent["response_format"]["type"] == "json_object"
    assert sent["response_format"]["schema"]["properties"]["intent"]["enum"][0] == "product_search"
    stats = client.stats.snapshot()
    assert stats["calls"] == 1 and stats["cache_hits"] == 1 and stats["prompt_tokens"] == 30
    assert client.cached(MESSAGES, QueryReading) == first


def test_openai_style_asks_for_a_strict_json_schema(scripted_llm, tmp_path):
    client = client_for(scripted_llm, tmp_path, schema_style="openai")
    scripted_llm.script = [(200, json.dumps(READING))]
    client.structured(MESSAGES, QueryReading)
    fmt = scripted_llm.received[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "QueryReading"


@pytest.mark.parametrize("content", [
    "not json at all",
    json.dumps({**READING, "max_price": 1}),  # a field the schema does not have
    json.dumps({**READING, "intent": "override"}),  # a value outside the enum
    json.dumps({**READING, "expansions": ["x"] * 50}),  # more items than allowed
    json.dumps({k: v for k, v in READING.items() if k != "intent"}),  # a required field missing
])
def test_an_answer_off_the_schema_is_dropped_not_cached(scripted_llm, tmp_path, content):
    client = client_for(scripted_llm, tmp_path)
    scripted_llm.script = [(200, content)]
    with pytest.raises(InvalidAnswer):
        client.structured(MESSAGES, QueryReading)
    assert client.cached(MESSAGES, QueryReading) is None
    assert client.stats.snapshot()["invalid"] == 1


def test_a_server_error_is_retried_and_a_bad_request_is_not(scripted_llm, tmp_path):
    client = client_for(scripted_llm, tmp_path)
    scripted_llm.script = [(503, "busy"), (200, json.dumps(READING))]
    assert client.structured(MESSAGES, QueryReading).intent.value == "gift"
    assert client.stats.snapshot()["retries"] == 1
    scripted_llm.script = [(400, "bad request")]
    with pytest.raises(LLMError, match="refused"):
        client.text(MESSAGES)
    assert len(scripted_llm.received) == 3


def test_the_breaker_stops_calls_after_failures(scripted_llm, tmp_path):
    client = client_for(scripted_llm, tmp_path)
    scripted_llm.script = [(500, "down")] * 4
    for _ in range(2):
        with pytest.raises(LLMError):
            client.text(MESSAGES)
    sent = len(scripted_llm.received)
    with pytest.raises(LLMError, match="failed 2 times"):
        client.text(MESSAGES)
    assert len(scripted_llm.received) == sent  # not called
    assert client.stats.snapshot()["breaker_rejections"] == 1


def test_an_endpoint_that_is_not_there_fails_cleanly(tmp_path):
    settings = LLMSettings(base_url="http://127.0.0.1:9/v1", retries=0, timeout_seconds=2)
    with pytest.raises(LLMError, match="failed"):
        ChatClient(settings).text(MESSAGES)


def test_a_closed_client_fails_as_an_llm_error_so_background_work_records_it(scripted_llm, tmp_path):
    from vitrina.llm.background import BackgroundAsker

    client = client_for(scripted_llm, tmp_path)
    client.close()  # the engine closing while a background ask is in hand
    with pytest.raises(LLMError, match="closed"):
        client.text(MESSAGES)
    asker: BackgroundAsker[str] = BackgroundAsker(lambda _: client.text(MESSAGES), 10)
    event = asker.request("a gift")
    assert event is not None and event.wait(5)
    assert "closed" in asker.failed["a gift"] and not scripted_llm.received
    asker.close()


def test_breaker_half_opens_after_the_reset_time():
    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_seconds=10, clock=lambda: now[0])
    breaker.failure()
    breaker.before()
    breaker.failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen):
        breaker.before()
    now[0] = 11
    assert breaker.state == "half-open"
    breaker.before()  # one trial goes out ...
    with pytest.raises(CircuitOpen):
        breaker.before()  # ... and only one
    breaker.success()
    assert breaker.state == "closed"


def test_schemas_are_flat():
    assert "$defs" not in json.dumps(schema_of(QueryReading)) and "$ref" not in json.dumps(schema_of(QueryReading))


def test_background_work_starts_after_a_foreground_hold_and_is_never_starved():
    from vitrina.llm.background import BackgroundAsker, yielding_to

    client = ChatClient(LLMSettings(base_url="http://127.0.0.1:9/v1"))
    asked = threading.Event()
    asker = BackgroundAsker(lambda key: asked.set(), 10, before=yielding_to(client))
    with client.foreground():
        asker.request("a query")
        assert not asked.wait(0.3)  # a person's turn is on: the model is theirs
    assert asked.wait(5)
    with client.foreground():
        started = time.monotonic()
        client.after_foreground(0.05)  # waits at most as long as it is told
        assert time.monotonic() - started < 1
    asker.close()
    client.close()


def test_closing_the_meaning_support_stops_its_encoding_and_waits_for_it(sample_engine):
    """A process must not exit while that thread is inside the encoder (its native threads abort the process):
    close stops it after the encode in hand, however much of the catalog's vocabulary is left."""
    import numpy as np

    from vitrina.understand.llm import MeaningSupport

    encoded = []

    def slow_encode(text):
        time.sleep(0.02)
        encoded.append(text)
        return np.ones(4, dtype=np.float32)

    support = MeaningSupport(slow_encode, lambda _: None, sample_engine.parser())
    while not encoded:
        time.sleep(0.01)
    started = time.monotonic()
    support.close()
    assert time.monotonic() - started < 1 and not support._thread.is_alive()
    assert not support.wait_built(0)  # stopped part way through the vocabulary
    count = len(encoded)
    time.sleep(0.1)
    assert len(encoded) == count


def test_llm_warm_reads_every_turn_of_a_dev_jsonl_file_and_plain_lines(tmp_path):
    from vitrina.cli_llm import _queries
    from vitrina.config import Settings

    dev = tmp_path / "dev.jsonl"
    dev.write_text('{"id": "a", "turns": ["black jeans", "in blue"], "judge": {}}\n{"id": "b", "query": "red dress"}\n')
    plain = tmp_path / "queries.txt"
    plain.write_text("linen shirt\n\nwool coat\n")
    assert _queries(dev, None, 500, Settings()) == ["black jeans", "in blue", "red dress"]
    assert _queries(plain, None, 1, Settings()) == ["linen shirt"]
