"""Searches share one engine across threads with no lock around them; an ingest swaps in its generation between
searches, and none sees half of one."""

import threading
import time

import pytest

from vitrina.catalog.product import Product
from vitrina.swap_guard import SwapGuard

pytestmark = pytest.mark.fast
QUERIES = ["navy shirt for men", "white sneakers", "red dress under 100", "leather boots", "black jeans",
           "wool sweater", "linen trousers", "handbag", "watch for men", "blazer for the office"]


def test_a_swap_waits_for_searches_under_way_and_holds_new_ones_back():
    guard, order = SwapGuard(), []
    reading, release = threading.Event(), threading.Event()

    def search_under_way():
        with guard.reading():
            reading.set()
            release.wait(10)
            order.append("search done")

    def swap():
        reading.wait(10)
        with guard.swapping():
            order.append("swap")

    def later_search():
        with guard.reading():
            order.append("later search")

    first, swapper = threading.Thread(target=search_under_way), threading.Thread(target=swap)
    first.start()
    swapper.start()
    reading.wait(10)
    deadline = time.monotonic() + 10
    while guard._waiting == 0 and time.monotonic() < deadline:  # the swap has queued behind the search
        time.sleep(0.001)
    later = threading.Thread(target=later_search)
    later.start()
    time.sleep(0.05)
    assert order == []  # the swap waits for the search under way, the later search for the swap
    release.set()
    for t in (first, swapper, later):
        t.join(10)
    assert order == ["search done", "swap", "later search"]


def test_searches_run_side_by_side_while_ingests_swap_generations(fresh_engine):
    errors, answered, stop = [], [0], threading.Event()

    def shopper(offset: int):
        n = offset
        while not stop.is_set():
            try:
                response = fresh_engine.search(QUERIES[n % len(QUERIES)] + f" {n % 7}", size=5)
                assert response.hits, response.message
                answered[0] += 1
            except Exception as exc:  # noqa: BLE001 - any failure in a thread is the test's failure
                errors.append(repr(exc))
            n += 1

    threads = [threading.Thread(target=shopper, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    try:
        for round_ in range(3):
            new = Product(id=f"NEW-{round_}", title=f"Zephyrine{round_} cobalt raincoat", price=99.0, currency="USD",
                          product_type="Jackets")
            report = fresh_engine.ingest([new])
            assert report.upserted == 1
            hits = fresh_engine.search(f"zephyrine{round_} raincoat", size=3).hits
            assert hits and hits[0].product["id"] == f"NEW-{round_}"  # the swapped-in generation answers
        deadline = time.monotonic() + 30
        while answered[0] <= 20 and time.monotonic() < deadline:  # a fast machine may ingest before many searches
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == [] and answered[0] > 20
    assert fresh_engine.count() == 363
