"""The shopping assistant end to end: a 3-turn conversation in the storefront's chat panel (headless Chromium),
against a real uvicorn server whose tenant talks to the real local LLM server, ending in an add-to-cart that is
attributed to the search the assistant ran."""

from pathlib import Path

import pytest

from conftest import running_app, sample_settings
from vitrina.config import Settings
from vitrina.engine import Engine
from vitrina.serve.service import Service

pytestmark = pytest.mark.slow
OUTPUT = Path(__file__).resolve().parent / "output"
TURN_SECONDS = 180  # two model calls a turn; ~10-20 s each for the 0.5B model on 2 cores


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory, sample_feed, encoder, vector_cache, local_llm):
    index = tmp_path_factory.mktemp("chat") / "index"
    with Engine(sample_settings(index, vector_cache), encoder=encoder) as engine:
        engine.ingest(sample_feed, fresh=True)
    settings = Settings(service={"data_dir": index.parent / "service"}, api_key="chat-key",
                        encoder={"cache_path": vector_cache}, learning={"enabled": False},
                        llm={"enabled": True, "base_url": local_llm.base_url})
    service = Service.build(settings)
    service.bootstrap(index)
    with running_app(service) as base:
        yield base, service


def turn(page, text: str, n: int) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    page.wait_for_selector(f'[data-testid="chat-status"][data-turns="{n}"]', timeout=TURN_SECONDS * 1000)


def test_a_three_turn_chat_ends_in_an_attributed_add_to_cart(chat_server, page):
    base, service = chat_server
    engine = service.tenants.engine("default")
    page.goto(base + "/")
    turn(page, "I need running shoes for men", 1)
    turn(page, "cheaper ones please", 2)
    turn(page, "tell me about the first one", 3)
    replies = page.get_by_test_id("chat-reply")
    assert replies.count() == 3
    for i in range(3):
        reply = replies.nth(i)
        cards = reply.get_by_test_id("chat-product")
        assert cards.count() >= 1, reply.inner_text()
        for j in range(cards.count()):  # every product is a real one, at its real price
            card = cards.nth(j)
            product = engine.get(card.get_attribute("data-product-id"))
            assert product is not None
            assert card.get_by_test_id("chat-price").inner_text().startswith(f"{product['price']:.2f}")
    first_turn = [replies.nth(0).get_by_test_id("chat-product").nth(j).get_attribute("data-product-id")
                  for j in range(replies.nth(0).get_by_test_id("chat-product").count())]
    assert all(engine.get(pid)["product_type"].lower() in {"sports shoes", "casual shoes"} for pid in first_turn)
    last = replies.nth(2).get_by_test_id("chat-product").first
    chosen = last.get_attribute("data-product-id")
    last.get_by_test_id("chat-add-to-cart").click()
    assert page.get_by_test_id("cart").inner_text() == "Cart: 1"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "chat.png"), full_page=True)
    page.wait_for_function("window.vitrinaStorefront.pixel.pending() === 0", timeout=15_000)
    searches = service.analytics.queries("default", 20)
    assert searches, "the assistant's searches were not logged"
    carted = [(s.query, s.add_to_cart_rate) for s in searches if s.add_to_cart_rate > 0]
    assert carted, f"no search got the add-to-cart of {chosen}: {searches}"
