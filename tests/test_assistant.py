"""The shopping assistant's turn: tools on the real sample engine; the model is off (rules stand in), or a scripted
stand-in endpoint that picks tools and tries to mention products and prices it should not."""

import json

import pytest

from vitrina.config import LLMSettings
from vitrina.converse.assistant import ChatMessage, ChatRequest, ShoppingAssistant, turns_of, without_stated_prices
from vitrina.converse.history import Turn
from vitrina.llm.client import ChatClient

pytestmark = pytest.mark.fast


def tools(engine):
    return (lambda words, history: engine.search(words, history=history, size=6),
            lambda ids: [p for p in (engine.get(i) for i in ids) if p])


def request(*texts_and_shown) -> ChatRequest:
    messages = []
    for item in texts_and_shown:
        if isinstance(item, str):
            messages.append(ChatMessage(role="user", content=item))
        else:
            messages.append(ChatMessage(role="assistant", content="here you go", products=item))
    return ChatRequest(messages=messages)


def test_with_the_llm_off_the_rules_search_and_a_template_answers(sample_engine):
    assistant = ShoppingAssistant(None, *tools(sample_engine), "fashion")
    events = list(assistant.turn(request("black sneakers for men under 80")))
    assert [e.type for e in events] == ["tool", "products", "reply", "done"]
    assert events[0].tool == "search" and events[0].source == "rules"
    products = events[1].products
    assert products and all(sample_engine.get(p["id"])["price"] == p["price"] for p in products)
    assert all(p["price"] <= 80 for p in products)  # the rules read the budget
    assert events[2].product_ids and set(events[2].product_ids) <= {p["id"] for p in products}
    assert events[1].search_id and events[2].search_id == events[1].search_id


def test_the_conversation_carries_into_the_search(sample_engine):
    first = sample_engine.search("red dress", size=6)
    shown = [h.product["id"] for h in first.hits]
    assert turns_of(request("red dress", shown, "cheaper ones").messages[:-1]) == [Turn(query="red dress", shown=shown)]
    assistant = ShoppingAssistant(None, *tools(sample_engine), "fashion")
    events = list(assistant.turn(request("red dress", shown, "cheaper ones")))
    top = max(h.product["price"] for h in first.hits)
    assert all(p["price"] < top for p in events[1].products)


def client_for(server, tmp_path) -> ChatClient:
    return ChatClient(LLMSettings(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", retries=0),
                      cache_path=tmp_path / "llm.sqlite")


def test_the_model_picks_a_tool_and_cannot_name_products_or_prices_it_was_not_given(sample_engine, scripted_llm,
                                                                                    tmp_path):
    shown = [h.product["id"] for h in sample_engine.search("sneakers", size=6).hits]
    scripted_llm.script = [
        (200, json.dumps({"tool": "details", "query": "", "positions": [2]})),
        (200, json.dumps({"text": "A great pick at ₹1 only, 999 rupees off!", "product_ids": [shown[1]]})),
    ]
    assistant = ShoppingAssistant(client_for(scripted_llm, tmp_path), *tools(sample_engine), "fashion")
    events = list(assistant.turn(request("sneakers", shown, "tell me about the second one")))
    assert events[0].tool == "details" and events[0].source == "llm"
    assert [p["id"] for p in events[1].products] == [shown[1]] and events[1].search_id is None
    assert events[2].source == "llm" and events[2].product_ids == [shown[1]]
    assert "₹1" not in events[2].text and "999" not in events[2].text  # prices are the cards' to show

    scripted_llm.script = [  # a reply naming a product the tool did not return is off the schema: the rules answer
        (200, json.dumps({"tool": "search", "query": "sneakers", "positions": []})),
        (200, json.dumps({"text": "Buy this!", "product_ids": ["not-a-real-id"]})),
    ]
    events = list(assistant.turn(request("sneakers")))
    assert events[2].source == "rules" and "not-a-real-id" not in events[2].product_ids
    assert set(events[2].product_ids) <= {p["id"] for p in events[1].products}


def test_prices_written_by_the_model_are_taken_out():
    assert without_stated_prices("Nice shoes. Only ₹1,299 today! Or 999 rupees. Size 9 in navy.") == \
        "Nice shoes. Size 9 in navy."
    assert without_stated_prices("Size 9 in navy") == "Size 9 in navy"


def test_the_last_message_must_be_the_shoppers(sample_engine):
    assistant = ShoppingAssistant(None, *tools(sample_engine), "fashion")
    with pytest.raises(ValueError):
        list(assistant.turn(request("shoes", ["x"])))


def test_what_a_turns_search_asks_in_the_background_waits_for_the_turns_reply(sample_engine, encoder, vector_cache,
                                                                              scripted_llm, tmp_path):
    """One model answers one call at a time: the reading of the search's words (asked in the background, a budget
    of 0) goes out after the reply the shopper waits for, not between the turn's two calls."""
    from conftest import sample_settings
    from vitrina.engine import Engine

    settings = sample_settings(sample_engine.path, vector_cache, llm={
        "enabled": True, "base_url": f"http://127.0.0.1:{scripted_llm.server_address[1]}/v1", "retries": 0,
        "rerank_depth": 0, "budget_ms": 0, "cache_path": tmp_path / "llm.sqlite"})
    engine = Engine(settings, encoder=encoder)  # a reader of the shared sample index, with the LLM on
    scripted_llm.script = [(200, json.dumps({"tool": "search", "query": "black dress", "positions": []})),
                           (200, json.dumps({"text": "Here are some.", "product_ids": []}))]
    events = list(ShoppingAssistant(engine.llm, *tools(engine), "fashion").turn(request("a black dress")))
    assert events[0].source == "llm" and events[2].source == "llm"
    assert engine.query_reader().asker.drain(timeout=10)  # the reading, after the turn (the script is spent: it fails)
    prompts = [call["messages"][0]["content"] for call in scripted_llm.received]
    assert len(prompts) == 3 and prompts[2].startswith("You read search queries")
    engine.close()
