"""End to end: real encoder, real Qdrant Edge index, on the sample catalog and a real Myntra slice."""

import json

import pytest
from typer.testing import CliRunner

import vitrina
from vitrina.catalog.product import Product
from vitrina.cli import app


def test_sample_search_is_explained(sample_engine):
    response = sample_engine.search("navy cotton shirt for men under 60", size=5)
    assert response.search_id and response.hits
    assert response.understanding.price.catalog_max == 60
    for hit in response.hits:
        p = hit.product
        assert p["price"] <= 60 and p["gender"] in ("men", "unisex")
        assert set(hit.explanation.signals) >= {"semantic", "constraint", "metadata", "quality"}
    assert response.hits[0].product["product_type"] == "Shirts"
    assert {"understand", "embed", "retrieve_bm25", "retrieve_vector", "fuse", "rank", "total"} <= set(response.timings)


def test_filters_and_facets(sample_engine):
    response = sample_engine.search("jacket", filters={"brand": "kestrel", "price": {"lte": 200}}, size=50)
    assert response.hits and all(h.product["brand"] == "Kestrel" and h.product["price"] <= 200 for h in response.hits)
    facets = sample_engine.search("shoes", size=10).facets
    assert facets and all(len(f.values) >= 2 for f in facets)
    with pytest.raises(ValueError, match="cannot filter on 'title'"):
        sample_engine.search("shoes", filters={"title": "x"})
    # A product's features filter as a shoe's fastening does.
    dry = sample_engine.search("jacket", filters={"features": "water-resistant"}, size=50)
    assert dry.hits and all("water-resistant" in h.product["features"] for h in dry.hits)


def test_multi_item_request_shows_every_item(sample_engine):
    types = [h.product["product_type"] for h in sample_engine.search("a jacket and boots for men", size=6).hits]
    assert "Jackets" in types[:2] and "Boots" in types[:2]


def test_a_ruled_out_word_sinks_the_titles_that_say_it_and_carries_to_the_next_turn(sample_engine):
    plain = [h.product["title"] for h in sample_engine.search("sweaters", size=10).hits]
    assert any("Turtleneck" in t for t in plain[:5])  # the sample has them near the top without the negation
    response = sample_engine.search("sweaters not turtleneck", size=10)
    titles = [h.product["title"] for h in response.hits]
    assert titles and not any("Turtleneck" in t for t in titles[:5])
    said = [h for h in response.hits if "Turtleneck" in h.product["title"]]
    assert all("says 'turtleneck', which you ruled out" in h.explanation.penalties for h in said)
    later = sample_engine.search("in grey", history=["sweaters not turtleneck"], size=10)
    assert later.understanding.excluded == ["turtleneck"] and "not turtleneck" in later.understanding.carried


def test_conversation_refines_and_replaces(sample_engine):
    first = sample_engine.search("white sneakers for women", size=5)
    refined = sample_engine.search("under 70", history=["white sneakers for women"], size=5)
    assert refined.understanding.price.catalog_max == 70 and "product type" in refined.understanding.carried
    assert all(h.product["price"] <= 70 and h.product["gender"] in ("women", "unisex") for h in refined.hits)
    replaced = sample_engine.search("actually boots instead", history=["black jeans for men"], size=5)
    assert replaced.hits[0].product["product_type"] == "Boots"
    assert all(h.product["gender"] in ("men", "unisex") for h in replaced.hits)
    shown = [h.product["id"] for h in first.hits]
    cheaper = sample_engine.search("cheaper ones", history=[{"query": "white sneakers for women", "shown": shown}])
    prices = sorted(h.product["price"] for h in first.hits)
    assert cheaper.understanding.price.catalog_max < prices[len(prices) // 2] + 0.01


@pytest.mark.slow
def test_real_fashion_slice(fashion_engine):
    jeans = fashion_engine.search("black jeans for men", size=5).hits
    assert [h.product["product_type"] for h in jeans[:3]] == ["Jeans"] * 3
    assert all(h.product["gender"] in ("men", "unisex") for h in jeans)
    shoes = fashion_engine.search("mens casual shoes not leather", size=10).hits
    assert shoes and all("leather" not in [m.lower() for m in h.product["materials"]] for h in shoes)
    cheap = fashion_engine.search("women red heels below 2000", size=10).hits
    assert cheap and all(h.product["price"] <= 2000 for h in cheap)
    assert cheap[0].product["product_type"] == "Heels"


@pytest.mark.slow
def test_the_catalog_says_what_a_kind_is_worn_for_and_what_goes_with_it_follows(fashion_engine):
    """The feed's usage per type: kurtas are ethnic wear, ties formal and casual; a suit's shoes are formal."""
    stats = fashion_engine.stats
    assert stats.occasion_of(["kurtas"]) == "ethnic" and stats.occasion_of(["ties"]) is None
    shoes = fashion_engine.search("help me pick shoes to go with my navy suit", size=5).hits
    assert [h.product["product_type"] for h in shoes[:3]] == ["Formal Shoes"] * 3
    # what goes with a kurti is for ethnic wear too (leggings, churidars), not the casual jeans a top's bottom is
    # most often; a casual piece (what most of the shop is for) narrows nothing
    assert stats.usual_occasion() == "casual"
    kurti = fashion_engine.search("something to go with my blue kurti", size=10).hits
    assert all(h.product["product_type"] != "Jeans" for h in kurti[:5])
    assert "ethnic" in {o.lower() for h in kurti[:3] for o in h.product.get("occasions") or []}


@pytest.mark.slow
def test_cli_search_json_and_explain(fashion_engine):
    runner = CliRunner()
    index = str(fashion_engine.path)
    result = runner.invoke(app, ["search", "--index", index, "--json", "navy cotton shirt for men under 1200"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {"hits", "understanding", "facets", "search_id", "timings"} <= set(body)
    first = body["hits"][0]
    assert {"product", "score", "explanation"} <= set(first) and first["product"]["price"] <= 1200
    result = runner.invoke(app, ["explain", "--index", index, "navy cotton shirt for men under 1200",
                                 first["product"]["id"]])
    assert result.exit_code == 0 and "signals" in result.output
    pretty = runner.invoke(app, ["search", "--index", index, "sunglasses for men"])
    assert pretty.exit_code == 0 and "Sunglasses" in pretty.output


def test_repeated_searches_come_from_the_response_cache_until_the_index_changes(fresh_engine, tmp_path):
    first = fresh_engine.search("white sneakers for women")
    again = fresh_engine.search("white sneakers for women")
    assert again.search_id != first.search_id  # every search is its own event source
    assert [h.product["id"] for h in again.hits] == [h.product["id"] for h in first.hits]
    assert "cache" in again.timings and "cache" not in first.timings
    assert "cache" not in fresh_engine.search("white sneakers for women", page=2).timings

    engine = vitrina.open(tmp_path / "scarves")
    engine.ingest([Product(id="a", title="Red wool scarf", price=20, currency="EUR")])
    assert [h.product["id"] for h in engine.search("scarf").hits] == ["a"]
    engine.ingest([Product(id="b", title="Blue wool scarf", price=25, currency="EUR")])
    assert {h.product["id"] for h in engine.search("scarf").hits} == {"a", "b"}  # not the stale answer
    engine.close()


def test_the_facets_the_reading_names_come_first(sample_engine):
    from vitrina.rank.facets import facets_for

    hits = sample_engine.search("shirts", size=60).hits
    plain = [f.field for f in facets_for(hits)]
    wanted = [f.field for f in facets_for(hits, ["price", "color"])]
    assert wanted[:2] == ["price", "primary_color"] and set(plain) - {"price", "primary_color"} >= set(wanted[2:])
