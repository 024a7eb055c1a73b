"""`vitrina demo`: every built-in query returns what it asks for on the catalog the demo runs on (the generated
sample, and the real fashion selection where ../shared is), and the sample's products have drawn images."""

import pytest

from conftest import FASHION, need, sample_settings
from vitrina.catalog.demo import REAL_QUERIES, REAL_SIZE, SAMPLE_QUERIES, real_selection
from vitrina.catalog.sample import sample_products
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
