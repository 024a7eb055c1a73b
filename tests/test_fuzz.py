"""Property tests with a bounded budget: the query parser never raises, and the HTTP API never answers 5xx to
anything its OpenAPI schema allows (schemathesis)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitrina.catalog.stats import CatalogStats
from vitrina.understand.parser import QueryParser
from vitrina.understand.rules import load_rules

WORDS = ["black", "navy", "dress", "shirt", "for", "men", "women", "not", "no", "under", "over", "between", "and",
         "₹", "$", "1,500", "2k", "500-1000", "size", "32", "xl", "cheap", "cheaper", "the", "second", "one",
         "without", "leather", "or", "too", "expensive", "&", "-", "'", "1/2", "in.", "wedding", "lbd", "warm"]


@pytest.fixture(scope="module")
def parser():
    stats = CatalogStats(values={"type": {"dresses": 3, "shirts": 3}, "gender": {"men": 1, "women": 1},
                                 "sizes": {"32": 1, "xl": 1}}, currency="INR",
                         price_quantiles={"*": [200, 500, 900, 1500, 3000]}, words={"dress": 3, "jacket": 2})
    return QueryParser(load_rules("fashion"), stats)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)))
def test_the_parser_never_raises_and_keeps_its_invariants(parser, query):
    parsed = parser.parse(query)
    assert len(parsed.normalized) <= parser.max_chars
    price = parsed.price
    if price and price.catalog_min is not None and price.catalog_max is not None and price.hard:
        assert price.catalog_min <= price.catalog_max
    # a constraint matches products by its values; one without is a term that only carries its product types and
    # implications ("warm": winter wear, whose types and season do the work)
    for c in parsed.constraints:
        term = parser.lexicon.term(c.vocabulary, c.term)
        assert c.values or c.vocabulary == "categories" or term.types or term.implies
    assert set(parsed.unknown).isdisjoint(parsed.corrections)


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory, sample_feed, encoder, vector_cache):
    """A service of its own over its own copy of the sample index: the fuzzer may write to it."""
    from conftest import sample_settings
    from vitrina.config import Settings
    from vitrina.engine import Engine
    from vitrina.serve.app import create_app
    from vitrina.serve.service import Service

    root = tmp_path_factory.mktemp("fuzz")
    index = Engine(sample_settings(root / "index", vector_cache), encoder=encoder)
    index.ingest(sample_feed, fresh=True)
    index.close()
    settings = Settings(service={"data_dir": root / "service", "admin_key": "fuzz-admin"}, api_key="fuzz-key",
                        encoder={"cache_path": vector_cache})
    service = Service.build(settings)
    service.bootstrap(root / "index")
    yield create_app(service)
    service.close()


def test_the_api_never_answers_5xx_to_what_its_schema_allows(fuzzed_app):
    import schemathesis

    def fuzz(operation) -> None:
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case):
            for key in ("fuzz-key", "fuzz-admin"):  # a tenant's key and the admin's: both reach deep
                response = case.call(headers={"Authorization": f"Bearer {key}"})
                assert response.status_code < 500, (operation.label, case.body, response.text)

        check()

    for operation in schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app).get_all_operations():
        fuzz(operation.ok())
