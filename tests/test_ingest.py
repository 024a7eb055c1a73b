import json

import pytest

import vitrina
from vitrina.catalog.sample import sample_products


def write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture()
def small(tmp_path):
    rows = sample_products(40)
    engine = vitrina.open(tmp_path / "index")
    engine.ingest(write(tmp_path / "a.jsonl", rows), fresh=True)
    yield engine, rows, tmp_path
    engine.close()


def test_ingest_is_idempotent_and_cached(small):
    engine, rows, tmp = small
    again = engine.ingest(write(tmp / "b.jsonl", rows))
    assert engine.count() == 40 and again.upserted == 40 and again.embedded == 0  # vectors from the cache


def test_upsert_partial_update_and_delete(small):
    engine, rows, tmp = small
    changed = dict(rows[0], title="Renamed Navy Linen Shirt", price=12.5)
    report = engine.ingest([vitrina.Product.model_validate(changed)])
    assert report.upserted == 1 and engine.count() == 40
    assert engine.get(rows[0]["id"])["title"] == "Renamed Navy Linen Shirt"
    report = engine.update([{"id": rows[1]["id"], "price": 9.99}, {"id": "nope", "price": 1}, {"id": rows[2]["id"],
                                                                                            "price": -1}])
    assert engine.get(rows[1]["id"])["price"] == 9.99
    assert engine.get(rows[1]["id"])["title"] == rows[1]["title"]  # untouched fields stay
    assert {(e.product_id, e.field) for e in report.rejected} == {("nope", "id"), (rows[2]["id"], "price")}
    engine.delete([rows[3]["id"]])
    assert engine.count() == 39 and engine.get(rows[3]["id"]) is None


def test_crash_mid_ingest_leaves_previous_state(small):
    engine, rows, tmp = small

    def products():
        for i, row in enumerate(sample_products(200)[100:]):
            if i == 50:
                raise RuntimeError("power cut")
            yield vitrina.Product.model_validate(row)

    with pytest.raises(RuntimeError, match="power cut"):
        engine.ingest(products())
    assert engine.count() == 40
    assert len(list((tmp / "index").glob("gen-*"))) == 1  # the half-written generation is gone
    reopened = vitrina.open(tmp / "index")
    assert reopened.count() == 40 and reopened.search("shirt").hits
    reopened.close()


def test_bad_rows_do_not_block_good_ones(tmp_path):
    engine = vitrina.open(tmp_path / "index")
    rows = [*sample_products(3), {"id": "bad", "title": "x", "price": "free"}]
    report = engine.ingest(write(tmp_path / "f.jsonl", rows), fresh=True)
    assert report.upserted == 3 and [(e.row, e.field) for e in report.rejected] == [(4, "price")]
    engine.close()


def test_searching_an_empty_index_says_what_to_do(tmp_path):
    engine = vitrina.open(tmp_path / "nothing")
    with pytest.raises(vitrina.engine.EmptyIndexError, match="ingest a catalog first"):
        engine.search("shirt")
