"""The ProductIndex contract (index/protocol.py), run against every backend: Qdrant Edge and the in-memory
reference. A cluster backend added later joins the `backend` parameter list."""

import json
import random

import numpy as np
import pytest

from vitrina.index.edge import EdgeBackend
from vitrina.index.edge_layout import LAYOUT_FILE, FieldLayout
from vitrina.index.memory import MemoryBackend
from vitrina.index.protocol import (
    FILTER_FIELDS,
    FLOAT_FIELDS,
    DimensionError,
    FilterError,
    FilterSpec,
    Flag,
    IndexDoc,
    Match,
    Range,
)

DIM = 4
BACKENDS = {"edge": EdgeBackend, "memory": MemoryBackend}


def unit(*xs):
    v = np.asarray(xs, dtype=np.float32)
    return (v / np.linalg.norm(v)).tolist()


def doc(pid, text, vector, **fields):
    base = {name: None for name in FILTER_FIELDS}
    base.update(fields)
    return IndexDoc(id=pid, vector=vector, text=text, fields=base, product={"id": pid, "title": text})


DOCS = [
    doc("a", "navy cotton shirt", unit(1, 0, 0, 0), type="shirts", colors=["navy blue"], price=10.0,
        gender="men", in_stock=True),
    doc("b", "red silk dress", unit(0, 1, 0, 0), type="dresses", colors=["red", "black"], price=50.0,
        gender="women", in_stock=False),
    doc("c", "blue denim shirts for men", unit(0.9, 0.1, 0, 0), type="shirts", colors=["blue"], price=30.0,
        gender="men", in_stock=True),
    doc("d", "black leather boots", unit(0, 0, 1, 0), type="boots", colors=["black"], in_stock=True),
]


@pytest.fixture(params=sorted(BACKENDS))
def index(request, tmp_path):
    backend = BACKENDS[request.param]()
    index = backend.create(tmp_path / "gen", DIM)
    index.upsert(DOCS)
    index.commit()
    yield index
    index.close()


def ids(scored):
    return [s.id for s in scored]


def test_upsert_replaces_a_document_whole(index):
    index.upsert([doc("a", "green wool scarf", unit(0, 0, 0, 1), type="scarves")])
    index.commit()
    assert index.get(["a"])["a"][0]["title"] == "green wool scarf"
    assert ids(index.bm25("shirt", 10)) == ["c"]
    assert index.count(FilterSpec(must=[Match(field="type", values=["shirts"])])) == 1
    assert index.count() == 4


def test_delete_removes_and_ignores_unknown_ids(index):
    index.delete(["b", "nope"])
    index.commit()
    assert index.count() == 3 and index.get(["b"]) == {}
    assert "b" not in ids(index.bm25("dress", 10))


def test_searches_name_the_products_of_writes_made_after_the_first_search(index):
    # The Edge backend maps point numbers to ids in memory once a search has read them: later writes must show.
    assert set(ids(index.bm25("shirt", 10))) == {"a", "c"}
    index.upsert([doc("e", "white linen shirt", unit(1, 0, 0, 1), type="shirts")])
    index.delete(["a"])
    index.commit()
    assert set(ids(index.bm25("shirt", 10))) == {"c", "e"}
    assert ids(index.knn(unit(1, 0, 0, 1), 1)) == ["e"]


def test_get_leaves_unknown_ids_out_and_gives_vectors_when_asked(index):
    found = index.get(["a", "zzz", "b"], with_vectors={"a"})
    assert set(found) == {"a", "b"}
    assert found["a"][1] is not None and found["b"][1] is None
    assert np.allclose(found["a"][1], unit(1, 0, 0, 0), atol=1e-5)


def test_bm25_returns_only_documents_sharing_a_stemmed_word(index):
    assert set(ids(index.bm25("shirt", 10))) == {"a", "c"}  # "shirts" stems to "shirt"
    assert ids(index.bm25("silk", 10)) == ["b"]
    assert index.bm25("", 10) == [] and index.bm25("   ", 10) == [] and index.bm25("xyzzy", 10) == []
    assert len(index.bm25("shirt", 1)) == 1 and index.bm25("shirt", 0) == []


def test_bm25_ranks_by_term_weight(index):
    # "navy" is rare and "shirt" common: the doc with both beats the doc with one.
    assert ids(index.bm25("navy shirt", 10)) == ["a", "c"]


def test_knn_is_by_cosine_best_first(index):
    hits = index.knn(np.asarray(unit(1, 0, 0, 0), np.float32), 3)
    assert ids(hits) == ["a", "c", "b"] or ids(hits) == ["a", "c", "d"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4) and hits[0].score >= hits[1].score


def test_knn_refuses_a_vector_of_another_dimension(index):
    with pytest.raises(DimensionError):
        index.knn(np.ones(3, np.float32), 2)


@pytest.mark.parametrize("where,expected", [
    (FilterSpec(must=[Match(field="colors", values=["black"])]), {"b", "d"}),  # any element of a list field
    (FilterSpec(must=[Match(field="gender", values=["men", "women"])]), {"a", "b", "c"}),  # a missing field fails
    (FilterSpec(must_not=[Match(field="gender", values=["women"])]), {"a", "c", "d"}),  # a missing field passes
    (FilterSpec(must=[Range(field="price", gte=10, lte=30)]), {"a", "c"}),  # bounds included
    (FilterSpec(must=[Range(field="price", gte=0)]), {"a", "b", "c"}),  # no price never matches a range
    (FilterSpec(must=[Flag(field="in_stock", value=True)]), {"a", "c", "d"}),
    (FilterSpec(must=[Flag(field="in_stock", value=False)]), {"b"}),
    (FilterSpec(must=[Match(field="type", values=["shirts"]), Range(field="price", lte=20)]), {"a"}),
])
def test_filter_semantics(index, where, expected):
    assert index.count(where) == len(expected)
    assert set(ids(index.knn(np.asarray(unit(1, 1, 1, 1), np.float32), 10, where))) == expected
    by_reference = {d.id for d in DOCS if where.matches(lambda f, d=d: _values(d, f))}
    assert by_reference == expected


def test_filters_on_unknown_fields_are_refused(index):
    with pytest.raises(FilterError, match="cannot filter on 'colour'"):
        index.count(FilterSpec(must=[Match(field="colour", values=["red"])]))


def test_facets_count_most_frequent_first_ties_by_value(index):
    assert index.facet("colors") == [("black", 2), ("blue", 1), ("navy blue", 1), ("red", 1)]
    assert index.facet("type", FilterSpec(must=[Flag(field="in_stock", value=True)])) == [("shirts", 2),
                                                                                          ("boots", 1)]


def test_facets_of_several_fields_match_each_fields_own_facet(index):
    # Fields that share a folded payload key come back apart, each with its own values, filter and limit.
    in_stock = FilterSpec(must=[Flag(field="in_stock", value=True)])
    fields = ["colors", "type", "gender", "in_stock", "brand"]
    assert index.facets(fields, in_stock, limit=2) == {f: index.facet(f, in_stock, limit=2) for f in fields}
    assert index.facets(["colors", "gender"], in_stock) == {
        "colors": [("black", 1), ("blue", 1), ("navy blue", 1)], "gender": [("men", 2)]}


def test_cosines_score_just_the_named_documents_as_their_vectors_would(index):
    query = np.asarray(unit(1, 1, 0, 0), np.float32)
    vectors = index.get(["a", "b", "d"], with_vectors=True)
    scored = index.cosines(query * 3, ["a", "b", "d", "unknown"])  # any length: a cosine
    assert set(scored) == {"a", "b", "d"}
    for pid, (_, vector) in vectors.items():
        assert scored[pid] == pytest.approx(float(vector @ query), abs=1e-3)
    assert scored["a"] > scored["d"] and index.cosines(query, []) == {}


def test_ids_give_every_document_once(index):
    assert sorted(index.ids()) == sorted(d.id for d in DOCS)


def test_payloads_give_every_document(index):
    rows = list(index.payloads(["type", "price"]))
    assert len(rows) == 4 and sorted(r["type"] for r in rows) == ["boots", "dresses", "shirts", "shirts"]


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_a_committed_generation_reopens_and_copies(tmp_path, name):
    backend = BACKENDS[name]()
    index = backend.create(tmp_path / "one", DIM)
    index.upsert(DOCS)
    index.commit()
    index.close()
    backend.copy(tmp_path / "one", tmp_path / "two")
    for folder in ("one", "two"):
        again = backend.open(tmp_path / folder, DIM)
        assert again.count() == 4 and ids(again.bm25("silk", 5)) == ["b"]
        again.close()


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_a_document_without_a_vector_is_found_by_words_then_by_meaning_once_it_has_one(tmp_path, name):
    backend = BACKENDS[name]()
    index = backend.create(tmp_path / "one", DIM)
    index.upsert([*DOCS, doc("e", "green wool scarf", None, type="scarves", colors=["green"])])
    assert index.missing_vectors(10) == ["e"] and index.count_missing_vectors() == 1
    assert ids(index.bm25("scarf", 5)) == ["e"] and "e" not in ids(index.knn(np.asarray(unit(0, 0, 0, 1)), 5))
    assert index.get(["e"], with_vectors=True)["e"][1] is None
    index.commit()
    index.close()
    backend.copy(tmp_path / "one", tmp_path / "two")  # a published generation keeps the document vectorless
    index = backend.open(tmp_path / "two", DIM)
    assert index.missing_vectors(10) == ["e"]
    index.set_vectors({"e": np.asarray(unit(0, 0, 0, 1)), "nobody": np.asarray(unit(1, 0, 0, 0))})
    assert index.missing_vectors(10) == [] and index.count_missing_vectors() == 0
    assert ids(index.knn(np.asarray(unit(0, 0, 0, 1)), 1)) == ["e"]
    with pytest.raises(DimensionError):
        index.set_vectors({"a": np.asarray([1.0, 0.0])})
    index.commit()
    index.close()
    again = backend.open(tmp_path / "two", DIM)
    assert again.missing_vectors(10) == [] and ids(again.knn(np.asarray(unit(0, 0, 0, 1)), 1)) == ["e"]
    again.close()


def _values(d, field):
    value = d.fields.get(field)
    return [] if value is None else value if isinstance(value, list) else [value]


COLOURS, TYPES = ["red", "blue", "black", "navy blue"], ["shirts", "dresses", "boots"]


def _random_docs(rng, dim=DIM):
    return [doc(f"p{i}", f"{rng.choice(TYPES)} {rng.choice(COLOURS)}", unit(*[rng.random() + 0.01 for _ in range(dim)]),
                type=rng.choice(TYPES), colors=rng.sample(COLOURS, rng.randint(0, 2)),
                price=rng.choice([None, rng.uniform(1, 100)]), in_stock=rng.random() < 0.5) for i in range(60)]


def _agree_with_the_reference_filter(rng, docs, indexes, dim=DIM):
    for _ in range(40):
        must = [rng.choice([Match(field="colors", values=rng.sample(COLOURS, 2)),
                            Match(field="type", values=[rng.choice(TYPES)]),
                            Range(field="price", gte=rng.uniform(0, 50), lte=rng.uniform(50, 100)),
                            Flag(field="in_stock", value=rng.random() < 0.5)]) for _ in range(rng.randint(0, 2))]
        must_not = [Match(field="colors", values=[rng.choice(COLOURS)])] if rng.random() < 0.5 else []
        where = FilterSpec(must=must, must_not=must_not)
        expected = {d.id for d in docs if where.matches(lambda f, d=d: _values(d, f))}
        for name, index in indexes.items():
            assert index.count(where) == len(expected), (name, where)
            got = set(ids(index.knn(np.asarray(unit(*range(1, dim + 1)), np.float32), 100, where)))
            assert got == expected, (name, where)


def test_backends_agree_with_the_reference_filter_on_random_documents(tmp_path):
    rng = random.Random(7)
    docs = _random_docs(rng)
    indexes = {}
    for name, backend in BACKENDS.items():
        indexes[name] = backend().create(tmp_path / name, DIM)
        indexes[name].upsert(docs)
        indexes[name].commit()
    _agree_with_the_reference_filter(rng, docs, indexes)
    for index in indexes.values():
        index.close()


@pytest.mark.parametrize("resident", [None, ["type", "price"], []])
def test_filter_indexes_give_the_same_answers_on_the_heap_or_mapped_from_disk(tmp_path, resident):
    """A published generation (optimized, closed, reopened) filters exactly like the reference whichever field
    indexes stay on the heap, and keeps each where it was put."""
    rng = random.Random(11)
    docs = _random_docs(rng)
    backend = EdgeBackend(resident=resident)
    created = backend.create(tmp_path / "gen", DIM)
    created.upsert(docs)
    created.commit()
    created.close()
    reopened = backend.open(tmp_path / "gen", DIM)
    _agree_with_the_reference_filter(rng, docs, {str(resident): reopened})
    reopened.close()
    (config,) = (tmp_path / "gen" / "shard" / "segments").glob("*/payload_index/config.json")
    placed = {name: field.get("memory") for name, field in json.loads(config.read_text())["indexed_fields"].items()}
    layout = FieldLayout.load(tmp_path / "gen")
    for name in ("type", "gender", "price", "colors", "in_stock"):
        assert placed[layout.keys[name]] == ("pinned" if resident is None or name in resident else "cold"), name
    # The text, the type and the gender, one per number, and the other fields folded into at most two (heap, disk).
    assert not layout.is_folded("gender") and layout.is_folded("colors")
    assert len(placed) <= 1 + 2 + len(FLOAT_FIELDS) + 2, sorted(placed)


def test_a_generation_made_before_fields_were_folded_filters_with_a_field_each(tmp_path, monkeypatch):
    """No layout.json: the generation was written with an index per filter field, and is read that way."""
    rng = random.Random(13)
    docs = _random_docs(rng)
    monkeypatch.setattr(FieldLayout, "folded", classmethod(lambda cls, resident: cls({f: f for f in FILTER_FIELDS})))
    created = EdgeBackend().create(tmp_path / "gen", DIM)
    created.upsert(docs)
    created.commit()
    created.close()
    (tmp_path / "gen" / LAYOUT_FILE).unlink()
    monkeypatch.undo()
    reopened = EdgeBackend().open(tmp_path / "gen", DIM)
    _agree_with_the_reference_filter(rng, docs, {"unfolded": reopened})
    reopened.close()


def test_a_generation_made_before_a_field_joined_the_table_filters_on_it_as_on_a_missing_field(tmp_path):
    """An older generation's layout.json does not name a filter field added since (its payloads never hold it):
    ruling its values out keeps every product, asking for one keeps none, and neither fails."""
    created = EdgeBackend().create(tmp_path / "gen", DIM)
    created.upsert(DOCS)
    created.commit()
    created.close()
    layout = json.loads((tmp_path / "gen" / LAYOUT_FILE).read_text())
    del layout["features"]
    (tmp_path / "gen" / LAYOUT_FILE).write_text(json.dumps(layout))
    reopened = EdgeBackend().open(tmp_path / "gen", DIM)
    assert reopened.count(FilterSpec(must_not=[Match(field="features", values=["slip-on"])])) == len(DOCS)
    assert reopened.count(FilterSpec(must=[Match(field="features", values=["slip-on"])])) == 0
    reopened.close()


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_payloads_give_folded_fields_back_in_their_own_shape(tmp_path, name):
    docs = [doc("a", "navy shirt", unit(1, 0, 0, 0), type="shirts", brand="acme", colors=["navy", "white"],
                price=10.0),
            doc("b", "red dress", unit(0, 1, 0, 0), type="dresses", colors=["red"]),
            doc("c", "boots", unit(0, 0, 1, 0), type="boots", brand="stomp")]
    index = BACKENDS[name]().create(tmp_path / "gen", DIM)
    index.upsert(docs)
    index.commit()
    got = {p["type"]: p for p in index.payloads(["type", "brand", "colors", "price"])}
    index.close()
    assert got == {"shirts": {"type": "shirts", "brand": "acme", "colors": ["navy", "white"], "price": 10.0},
                   "dresses": {"type": "dresses", "colors": ["red"]},
                   "boots": {"type": "boots", "brand": "stomp"}}


def test_resident_filter_fields_must_be_filter_fields(tmp_path):
    with pytest.raises(FilterError, match="colour"):
        EdgeBackend(resident=["type", "colour"]).create(tmp_path / "gen", DIM)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_the_engine_runs_on_any_backend(tmp_path, name, sample_feed, encoder, vector_cache):
    """IndexStore and Engine see only the protocol: the same ingest, generations and search on each backend."""
    from conftest import sample_settings
    from vitrina.engine import Engine

    settings = sample_settings(tmp_path / "index", vector_cache, index_backend=name)
    engine = Engine(settings, encoder=encoder)
    engine.ingest(sample_feed, fresh=True)
    first = engine.search("navy cotton shirt for men under 60", size=5)
    assert first.hits and all(h.product["price"] <= 60 and h.product["gender"] in ("men", "unisex")
                              for h in first.hits)
    engine.delete([first.hits[0].product["id"]])  # a second generation, published atomically
    engine.close()
    again = Engine(settings, encoder=encoder)  # reopened from disk
    assert again.count() == 359 and again.store.meta().generation == 2
    assert first.hits[0].product["id"] not in [h.product["id"] for h in again.search("navy cotton shirt").hits]
    again.close()


def test_photo_vectors_live_in_their_own_space(index, tmp_path):
    """A document's photo vector is searched apart from its text vector, survives a reload, and documents
    without a photo are simply not in that space."""
    assert index.count_vectors("image") == 0 and index.knn(unit(1, 0, 0, 0), 5, space="image") == []
    index.set_vectors({"b": np.asarray(unit(1, 0, 0, 0)), "d": np.asarray(unit(0, 1, 0, 0))}, space="image")
    index.commit()
    assert index.count_vectors("image") == 2 and index.count_vectors("text") == 4
    assert ids(index.knn(unit(1, 0, 0, 0), 5, space="image")) == ["b", "d"]
    assert ids(index.knn(unit(1, 0, 0, 0), 1)) == ["a"]  # the text space is unchanged
    assert ids(index.knn(unit(1, 0, 0, 0), 5, FilterSpec(must=[Match(field="type", values=["boots"])]),
                         space="image")) == ["d"]
    photo = index.get(["b", "a"], with_vectors=True, space="image")
    assert np.allclose(photo["b"][1], unit(1, 0, 0, 0), atol=1e-6) and photo["a"][1] is None
    index.upsert([doc("e", "white sneakers", unit(0, 0, 0, 1), type="shoes", colors=["white"])
                  .model_copy(update={"image_vector": unit(0, 0, 0, 1)})])
    index.commit()
    assert ids(index.knn(unit(0, 0, 0, 1), 1, space="image")) == ["e"]
    with pytest.raises(DimensionError):
        index.knn(unit(1, 0, 0), 3, space="image")


def test_photo_vectors_persist(tmp_path):
    for name, backend_class in BACKENDS.items():
        backend = backend_class()
        created = backend.create(tmp_path / name, DIM)
        created.upsert(DOCS)
        created.set_vectors({"c": np.asarray(unit(0, 0, 1, 0))}, space="image")
        created.commit()
        created.close()
        reopened = backend.open(tmp_path / name, DIM)
        assert ids(reopened.knn(unit(0, 0, 1, 0), 3, space="image")) == ["c"], name
        assert reopened.count_vectors("image") == 1, name
        reopened.close()


def test_an_index_built_in_segments_answers_like_one_built_whole(tmp_path):
    """Segments indexed as they fill (the bounded-memory build) give the same filtered answers, and stay apart."""
    rng, dim = random.Random(5), 384
    docs = _random_docs(rng, dim)
    segmented = EdgeBackend(segment_points=20).create(tmp_path / "seg", dim)
    for start in range(0, len(docs), 10):
        segmented.upsert(docs[start:start + 10])
    segmented.commit()
    segmented.close()
    reopened = EdgeBackend(segment_points=20).open(tmp_path / "seg", dim)
    _agree_with_the_reference_filter(rng, docs, {"segmented": reopened}, dim)
    assert ids(reopened.bm25("boots", 100)) and set(ids(reopened.bm25("boots", 100))) == {
        d.id for d in docs if "boots" in d.text}
    reopened.close()
    segments = list((tmp_path / "seg" / "shard" / "segments").iterdir())
    assert len(segments) >= 3, [sorted(f.name for f in p.iterdir()) for p in segments]
