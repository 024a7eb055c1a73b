"""A training run's searches shared among processes give what one process gives, in the queries' order."""

import pytest

from conftest import sample_settings
from vitrina.engine import Engine
from vitrina.learn.tuning.searches import keep_hits, searched, top_hits, top_ids

QUERIES = ["black leather jacket", "red dress", "running shoes for men", "wool scarf", "summer hat",
           "navy blazer", "white sneakers"]


def _seen(tops):
    return [[(h.product["id"], h.score, h.explanation.fused) for h in hits] for hits in tops]


def test_an_engine_opened_from_settings_alone_can_be_opened_again_alike(sample_engine):
    assert not sample_engine.reopens_alike  # its encoder was handed to it in code
    plain = Engine(sample_engine.settings)
    assert plain.reopens_alike
    plain.close()


@pytest.mark.slow
def test_searches_shared_among_processes_give_what_one_process_gives_in_order(sample_engine, vector_cache):
    engine = Engine(sample_settings(sample_engine.path, vector_cache, response_cache_size=0))
    try:
        for kind in ("first_phase", "fused"):
            alone = [top_hits(engine, kind, query, 10) for query in QUERIES]
            assert _seen(searched(engine, kind, QUERIES, 10, keep_hits, processes=1)) == _seen(alone)
            shared = searched(engine, kind, QUERIES, 10, keep_hits, processes=3, shared_from=1)
            assert _seen(shared) == _seen(alone) and all(alone)
            # what is made of each search is made where it ran, and comes back in the queries' order
            ids = searched(engine, kind, QUERIES, 10, top_ids, processes=2, shared_from=1)
            assert ids == [[h.product["id"] for h in hits] for hits in alone]
        # a few queries are not worth a process: they run here (a plugged-in encoder would not reopen alike either)
        assert _seen(searched(sample_engine, "first_phase", QUERIES, 10, keep_hits, processes=2)) == _seen(
            [top_hits(sample_engine, "first_phase", query, 10) for query in QUERIES])
    finally:
        engine.close()
