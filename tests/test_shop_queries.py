"""A fashion shop's traffic written from its catalog (evaluate/shop_queries.py), on the real feed's slice, graded by
the fashion set's own judge: seeded, distinct, never a dev query, and each one finds what it asks for."""

import json

import pytest

from conftest import SHARED, need
from vitrina.evaluate.datasets import load_judge
from vitrina.evaluate.shop_queries import fashion_shop_queries

QUERIES = SHARED / "fashion-queries"


def products(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_shop_queries_are_seeded_distinct_and_keep_out_the_excluded(fashion_slice):
    catalog = products(fashion_slice)
    first = fashion_shop_queries(catalog, 120, seed=0)
    assert first == fashion_shop_queries(catalog, 120, seed=0)
    assert first != fashion_shop_queries(catalog, 120, seed=1)
    texts = [q["turns"][0] for q in first]
    assert len(first) == 120 and len(set(texts)) == 120
    assert [q["id"] for q in first[:2]] == ["shop0001", "shop0002"]
    kept_out = fashion_shop_queries(catalog, 120, seed=0, exclude=[t.upper() + "!" for t in texts[:10]])
    assert not {q["turns"][0] for q in kept_out} & set(texts[:10])  # the same words, any case or punctuation


def test_each_shop_query_finds_products_its_spec_grades_top(fashion_slice):
    need(QUERIES / "judge.py")
    judge = load_judge(QUERIES / "judge.py")
    catalog = products(fashion_slice)
    for spec in fashion_shop_queries(catalog, 60, seed=2):
        graded = judge.grades(spec, catalog)
        assert any(g == 2 for g in graded.values()), spec  # written from a product: that product grades 2
        words = spec["turns"][0]
        kind = next(iter(spec["judge"]["articleType"]))
        assert kind.lower() in words
        for allowed in spec["judge"].get("attrs", {}).values():
            assert allowed[0].lower() in words
        if "gender" in spec["judge"]:
            assert spec["judge"]["gender"][1] == "Unisex" and words.endswith(spec["judge"]["gender"][0].lower())


def test_a_catalog_without_products_is_refused():
    with pytest.raises(ValueError, match="no products"):
        fashion_shop_queries([], 5, seed=0)
