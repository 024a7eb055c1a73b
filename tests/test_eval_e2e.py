"""A quick end-to-end eval on real data: the harness drives the engine itself, every ablation and protocol."""

import json

import pytest

import vitrina
from conftest import FASHION, SHARED, need
from conftest import homedepot_slice as slice_of_homedepot
from vitrina.evaluate.runner import eval_fashion, eval_homedepot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def homedepot_slice(tmp_path_factory):
    """The judged products of the first 25 dev queries, and those queries' qrels."""
    return slice_of_homedepot(tmp_path_factory.mktemp("hd"), 25)


def test_homedepot_eval_both_protocols_and_run_file(homedepot_slice, tmp_path):
    engine = vitrina.open(tmp_path / "index", domain="generic")
    engine.ingest(homedepot_slice / "products.jsonl", feed="homedepot", fresh=True)
    hit = engine.search("cordless drill").hits[0]
    assert hit.explanation.weights["lexical"] == 0.6  # the generic domain's weights: titles only
    run = tmp_path / "run.jsonl"
    report = eval_homedepot(engine, homedepot_slice / "qrels.tsv", homedepot_slice / "products.jsonl",
                            run_file=run)
    assert set(report) == {"bm25s", "bm25", "vector", "rrf", "full"}
    for mode, row in report.items():
        assert row["queries"] == 25
        assert 0 < row["ndcg@10"] <= 1 and 0 < row["rerank_ndcg@10"] <= 1, mode
    # Re-ranking by cosine only drops the other queries' (zero-gain) products from the same cosine order.
    assert report["vector"]["rerank_ndcg@10"] >= report["vector"]["ndcg@10"]
    lines = [json.loads(line) for line in run.read_text().splitlines()]
    assert len(lines) == 25 and all(set(line) == {"id", "results"} and line["results"] for line in lines)
    engine.close()


def test_fashion_eval_with_another_queries_file(fashion_engine, tmp_path):
    need(FASHION)
    queries = tmp_path / "few.jsonl"
    with open(SHARED / "fashion-queries" / "dev.jsonl") as handle:
        queries.write_text("".join(handle.readlines()[:6]))
    run = tmp_path / "run.jsonl"
    report = eval_fashion(fashion_engine, FASHION, queries, ("bm25s", "full"), run,
                          SHARED / "fashion-queries" / "judge.py")
    assert set(report) == {"bm25s", "full"}
    for row in report.values():
        assert 0 <= row["ndcg@10"] <= 1 and 0 <= row["constraint_satisfaction"] <= 1
        assert sum(c["n"] for c in row["per_category"].values()) == 6
    lines = [json.loads(line) for line in run.read_text().splitlines()]
    assert [line["id"] for line in lines] == [json.loads(q)["id"] for q in queries.read_text().splitlines()]
