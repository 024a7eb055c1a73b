"""`vitrina demo`: every built-in query returns what it asks for on the catalog the demo runs on (the generated
sample, and the real fashion selection where ../shared is), and the sample's products have drawn images."""

import json
from collections import defaultdict
from itertools import islice

import pytest

from conftest import FASHION, first_rows, need, sample_settings
from vitrina.catalog.demo import REAL_QUERIES, REAL_SIZE, SAMPLE_QUERIES, fill_by_turns, real_selection
from vitrina.catalog.product import Product
from vitrina.catalog.registry import make_feed
from vitrina.catalog.sample import sample_products
from vitrina.catalog.validate import validate_rows
from vitrina.engine import Engine
from vitrina.serve.images import ImageStore


def held_to(engine: Engine, queries, catalog: list[dict]) -> list[str]:
    """What each query's top 5 miss: hard constraints as far as the catalog can meet them (a catalog with three
    men's shirts under 60 shows those three first), the soft ones on the first hit where any product meets them."""
    failures = []
    for demo in queries:
        can_hard = sum(1 for p in catalog if not demo.asked.misses(p, first=False))
        can_all = any(not demo.asked.misses(p, first=True) for p in catalog)
        hits = engine.search(demo.query, history=demo.history, size=5).hits
        if not hits:
            failures.append(f"{demo.query!r}: no hits")
        for rank, hit in enumerate(hits[:can_hard], start=1):
            failures += [f"{demo.query!r} #{rank} {hit.product['title']!r}: {why}"
                         for why in demo.asked.misses(hit.product, first=rank == 1 and can_all)]
    return failures


@pytest.mark.fast
def test_the_sample_demo_queries_return_what_they_ask_for(sample_engine):
    assert held_to(sample_engine, SAMPLE_QUERIES, sample_products()) == []


@pytest.mark.fast
def test_every_sample_product_has_a_drawn_image():
    store = ImageStore(None)
    for product in sample_products():
        drawn = store.read(product["images"][0])
        assert drawn is not None and drawn[1] == "image/svg+xml" and drawn[0].startswith(b"<svg")
    assert store.read("drawn-spaceship-red.svg") is None and store.read("../etc/passwd") is None


@pytest.mark.slow
def test_the_real_demo_queries_return_what_they_ask_for(tmp_path, encoder, vector_cache):
    need(FASHION)
    products = real_selection(FASHION)
    assert len(products) == REAL_SIZE and len({p.product_type for p in products}) > 100
    engine = Engine(sample_settings(tmp_path / "index", vector_cache), encoder=encoder)
    report = engine.ingest(products, fresh=True)
    assert report.upserted == REAL_SIZE
    assert held_to(engine, REAL_QUERIES, [p.model_dump() for p in products]) == []
    engine.close()


def plain_selection(catalog, size, queries, per_query) -> list[Product]:
    """real_selection's definition: every row validated, answers to each query first, then each type in turn."""
    products = [p for p in validate_rows(make_feed("myntra").rows(catalog)) if isinstance(p, Product)]
    chosen: dict[str, Product] = {}
    for demo in queries:
        answering = (p for p in products if not demo.asked.misses(p.model_dump(), first=True))
        for product in islice(answering, per_query):
            chosen.setdefault(product.id, product)
    by_type: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        by_type[product.product_type or ""].append(product)
    fill_by_turns(chosen, [iter(v) for v in by_type.values()], size)
    return list(chosen.values())


def test_the_real_selection_validates_only_what_it_takes_and_takes_what_validating_all_would(tmp_path):
    need(FASHION)
    rows = first_rows(FASHION, 1500)
    repeated = dict(rows[3])  # a valid row's id again, later: a duplicate, rejected
    unpriced = {**rows[10], "id": 990001, "price": 0, "discountedPrice": 0}  # invalid first ...
    priced = {**rows[11], "id": 990001}  # ... so the same id later is the first valid one
    untyped = {k: v for k, v in rows[12].items() if k != "articleType"} | {"id": 990002}
    lines = [json.dumps(r) for r in [untyped, *rows[:700], repeated, unpriced, priced, *rows[700:]]]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    for size, per_query in ((40, 3), (400, 12), (10_000, 5)):
        expected = plain_selection(feed, size, REAL_QUERIES, per_query)
        assert real_selection(feed, size, REAL_QUERIES, per_query) == expected
    ids = [p.id for p in expected]
    assert "990001" in ids and "990002" in ids and len(ids) == len(set(ids))
