"""One regression test per defect the review and a new user's first hour found (issue 13); each failed before."""

import threading
import time

import pytest
from pydantic import ValidationError

import vitrina
from vitrina.catalog.product import Product
from vitrina.converse.history import Turn
from vitrina.index.edge import EdgeIndex
from vitrina.index.protocol import FilterError
from vitrina.understand.models import ParsedQuery


# --- the parsed query is immutable ---
def test_a_parsed_query_cannot_be_changed_after_it_is_built(sample_engine):
    parsed = sample_engine.search("navy shirt under 60").understanding
    assert isinstance(parsed, ParsedQuery)
    with pytest.raises(ValidationError):
        parsed.keyword_query = "something else"
    with pytest.raises(ValidationError):
        parsed.price.catalog_max = 1.0


# --- hard constraints and filters ---
def test_in_stock_filter_returns_in_stock_products(sample_engine):
    hits = sample_engine.search("shirts", filters={"in_stock": True}, size=20).hits
    assert hits and all(h.product["availability"] == "in_stock" for h in hits)


def test_out_of_stock_products_are_demoted(fresh_engine):
    query = "shirt for men"
    before = fresh_engine.search(query, size=10).hits
    third = before[2]
    fresh_engine.update([{"id": third.product["id"], "availability": "out_of_stock"}])
    after = [h.product["id"] for h in fresh_engine.search(query, size=10).hits]
    assert after.index(third.product["id"]) > 2
    demoted = fresh_engine.explain(query, third.product["id"])
    assert demoted is not None and "out of stock" in demoted.explanation.penalties
    assert demoted.score == pytest.approx(third.score - demoted.explanation.weights["availability"], abs=1e-3)


def test_sizes_can_be_filtered_and_a_parsed_size_counts(sample_engine):
    hits = sample_engine.search("jeans", filters={"sizes": "32"}, size=20).hits
    assert hits and all("32" in h.product["sizes"] for h in hits)
    parsed = sample_engine.search("jeans size 32", size=10)
    assert parsed.understanding.sizes == ["32"]
    assert all("32" in h.product["sizes"] for h in parsed.hits)
    assert any("size 32" in m for m in parsed.hits[0].explanation.matches)


@pytest.mark.parametrize("filters,field", [({"price": "abc"}, "price"), ({"price": {"gte": "cheap"}}, "price"),
                                           ({"in_stock": "yes"}, "in_stock"), ({"colour": "red"}, "colour"),
                                           ({"brand": {"gte": 1}}, "brand")])
def test_filters_of_the_wrong_kind_are_errors_that_name_the_field(sample_engine, filters, field):
    with pytest.raises(FilterError, match=field):
        sample_engine.search("shirts", filters=filters)


def test_the_reranking_protocol_applies_the_query_filters(sample_engine):
    men = [h.product["id"] for h in sample_engine.search("shirts for men", size=5).hits]
    women = [h.product["id"] for h in sample_engine.search("shirts for women", size=5).hits]
    order = sample_engine.rerank("shirts for men", women + men)
    assert set(order[:len(men)]) == set(men)  # the women's shirts go last, after every men's one


# --- totals, paging, nonsense ---
def test_nonsense_gets_no_results_and_says_so(sample_engine):
    response = sample_engine.search("xyzzy qwertyuiop")
    assert response.hits == [] and response.total == 0
    assert response.confidence == "none" and response.message


@pytest.mark.slow
@pytest.mark.parametrize("query", ["xyzzy qwertyuiop", "asdf ghjk", "blorptastic fnord", "12345 67890"])
def test_nonsense_gets_no_results_on_a_real_catalog(fashion_engine, query):
    """On real catalogs nonsense still has neighbours at cosines of 0.3-0.4; they are not matches."""
    response = fashion_engine.search(query)
    assert response.hits == [] and response.total == 0 and response.confidence == "none"
    assert fashion_engine.search("navy shirt for men").confidence == "high"


def test_total_counts_matches_and_paging_goes_past_200(fresh_engine):
    first = fresh_engine.search("shirt", size=10)
    assert first.total <= fresh_engine.count() and first.confidence == "high"
    deep = fresh_engine.search("clothes", size=50, page=5)  # positions 201-250
    assert deep.page == 5 and len(deep.hits) == min(50, max(0, deep.total - 200))
    with pytest.raises(ValueError, match="result window"):
        fresh_engine.search("shirt", size=100, page=11)


def test_explain_finds_products_past_the_first_page(sample_engine):
    hits = sample_engine.search("shirt", size=60).hits
    assert sample_engine.explain("shirt", hits[55].product["id"]) is not None


# --- understanding ---
def test_not_too_expensive_jeans_still_asks_for_jeans(sample_engine):
    parsed = sample_engine.search("not too expensive jeans").understanding
    assert "jeans" in parsed.types and not parsed.negated()
    assert parsed.price is not None and parsed.price.relative == "cheap"
    flashy = sample_engine.search("not flashy jeans").understanding
    assert "jeans" in flashy.types and not flashy.negated()
    assert sample_engine.search("no heels").understanding.negated()  # a type right after the negation is negated


@pytest.mark.parametrize("query,word", [("light blue shirt", "light"), ("style tips dress", "style"),
                                        ("dressy tops", "dressy"), ("bride outfit", "bride")])
def test_known_words_are_never_corrected(sample_engine, query, word):
    parsed = sample_engine.search(query).understanding
    assert word not in parsed.corrections
    assert not any(c.vocabulary == "fits" for c in parsed.constraints)  # "light" never becomes fit=tight


def test_unknown_words_are_corrected_to_catalog_words(sample_engine):
    parsed = sample_engine.search("jakcet for men").understanding
    assert parsed.corrections == {"jakcet": "jacket"}
    assert any("jacket" in t for t in parsed.types)


# --- conversation ---
def test_a_price_cap_holds_on_the_third_turn(sample_engine):
    first = sample_engine.search("shirts for men", size=5)
    turn1 = Turn(query="shirts for men", shown=[h.product["id"] for h in first.hits])
    second = sample_engine.search("cheaper ones", history=[turn1], size=5)
    cap = second.understanding.price.catalog_max
    assert cap is not None
    turn2 = Turn(query="cheaper ones", shown=[h.product["id"] for h in second.hits])
    third = sample_engine.search("in blue", history=[turn1, turn2], size=5)
    assert third.understanding.price.catalog_max == cap
    assert third.hits and all(h.product["price"] <= cap for h in third.hits)


def test_the_second_one_in_white_shows_white(sample_engine):
    first = sample_engine.search("black sneakers", size=5)
    turn = Turn(query="black sneakers", shown=[h.product["id"] for h in first.hits])
    again = sample_engine.search("the second one in white", history=[turn], size=5)
    assert again.hits and all("white" in " ".join(h.product["colors"]).lower() for h in again.hits[:3])
    assert "black" not in again.understanding.semantic_text.lower().split()
    plain = sample_engine.search("in white", history=["black sneakers"], size=5)
    assert "black" not in plain.understanding.semantic_text.split()


def test_help_questions_are_routed_not_searched(sample_engine):
    response = sample_engine.search("what's your return policy?")
    assert response.route == "help" and response.hits == [] and response.message


def test_details_of_a_shown_product_route_to_it(sample_engine):
    first = sample_engine.search("sneakers", size=5)
    turn = Turn(query="sneakers", shown=[h.product["id"] for h in first.hits])
    details = sample_engine.search("tell me more about the third one", history=[turn])
    assert details.route == "shown" and [h.product["id"] for h in details.hits] == [turn.shown[2]]


# --- catalog, index, settings ---
def test_discount_of_a_product_without_price_is_none():
    assert Product(id="x", title="Scarf", original_price=20).discount_percent is None
    assert Product(id="x", title="Scarf", price=15, original_price=20).discount_percent == 25.0


def test_edge_index_keeps_hnsw_ef(tmp_path):
    index = EdgeIndex.create(tmp_path, 4, hnsw_ef=77)
    assert index._params.hnsw_ef == 77
    index.close()


def test_open_refuses_misspelt_settings(tmp_path):
    with pytest.raises(ValidationError, match="domian"):
        vitrina.open(tmp_path / "index", domian="generic")


# --- the service's engines ---
def test_a_tenant_opening_its_engine_does_not_block_another(tmp_path, encoder, monkeypatch):
    from vitrina.config import Settings
    from vitrina.events.db import connect
    from vitrina.serve import tenants as tenants_module
    from vitrina.serve.tenants import TenantRegistry

    settings = Settings(service={"data_dir": tmp_path})
    registry = TenantRegistry(connect(f"sqlite:///{tmp_path / 'db.sqlite'}"), settings, encoder=encoder)
    registry.create("slow")
    registry.create("fast")
    real_open = tenants_module.open_engine
    opened: list[str] = []

    def slow_open(path, settings, encoder=None, **given):
        if "slow" in str(path):
            time.sleep(1.0)
        engine = real_open(path, settings, encoder=encoder, **given)
        opened.append(str(path))
        return engine

    monkeypatch.setattr(tenants_module, "open_engine", slow_open)
    threading.Thread(target=registry.engine, args=("slow",)).start()
    time.sleep(0.1)
    started = time.perf_counter()
    fast = registry.engine("fast")
    assert time.perf_counter() - started < 0.5  # not queued behind the slow tenant
    assert fast.encoder.encoder is encoder  # every tenant shares the process's one encoder
    time.sleep(1.2)
    assert registry.engine("slow").encoder.encoder is encoder
    registry.close()
