"""The learned order of the top hits: its features, its scale and labels, and a real LambdaMART trained on a Home
Depot slice: checked, refused, served before the cross-encoder, explained, switched off and refused when tampered."""

import numpy as np
import pytest
from test_tuning import TINY, hd_env, hd_settings
from typer.testing import CliRunner

import vitrina
from vitrina.cli import app
from vitrina.learn.tuning.order import LABELS, _labels, fit_order, label_scale, train_order
from vitrina.learn.tuning.pairs import pairs_from_qrels
from vitrina.learn.tuning.registry import ModelFileError
from vitrina.learn.tuning.train import split_pairs
from vitrina.rank.learned_order import (
    ABSENT_RANK,
    FEATURES,
    LearnedOrderModel,
    OrderWords,
    StaleOrderModel,
    letter_runs,
    on_incoming_scale,
    order_features,
)
from vitrina.rank.models import Explanation, RankedHit


def _hit(pid: str, title: str, score: float, **explanation) -> RankedHit:
    return RankedHit(product={"id": pid, "title": title}, score=score, explanation=Explanation(**explanation))


@pytest.mark.fast
def test_the_features_say_how_the_query_meets_each_title():
    bulb = _hit("1", "EcoSmart 60-Watt Equivalent A19 LED Light Bulb", 1.2, signals={"semantic": 0.9, "lexical": 1.0},
                retrievers={"bm25": 1})
    drill = _hit("2", "Cordless Drill 20V", 0.8, signals={"semantic": 0.2}, retrievers={"vector": 3})
    table = order_features("60 watt light bulbs", [bulb, drill], OrderWords())
    assert table.shape == (2, len(FEATURES))
    first, second = (dict(zip(FEATURES, row, strict=True)) for row in table)
    assert first["rank"] == 0 and second["rank"] == 1 and first["semantic"] == 0.9 and second["lexical"] == 0
    assert (first["bm25_rank"], first["vector_rank"]) == (1, ABSENT_RANK)
    assert (second["bm25_rank"], second["vector_rank"]) == (ABSENT_RANK, 3)
    # every query word is in the bulb's title (stemmed: bulbs, bulb), its number and its last word, the product type
    assert first["coverage"] == 1 and first["matched"] == 4 and first["last_word_in_title"] == 1
    assert first["last_word_place"] == pytest.approx(7 / 8)  # "bulb" is the title's last of 8 words
    assert first["query_numbers"] == 1 and first["numbers_matched"] == 1 and first["first_word_in_title"] == 1
    assert first["pairs_matched"] == pytest.approx(2 / 3)  # "60 watt", "light bulb"; not "watt light"
    assert first["phrase_in_title"] == 0 and first["same_first_word"] == 0
    assert second["coverage"] == 0 and second["last_word_in_title"] == 0 and second["last_word_place"] == 1.5
    assert second["numbers_matched"] == 0
    # within the list: standard scores of the incoming score
    assert first["score_standard"] == pytest.approx(1) and second["score_standard"] == pytest.approx(-1)
    # no numbers or word pairs in the query: -1, not a share
    lone = dict(zip(FEATURES, order_features("drill", [drill], OrderWords())[0], strict=True))
    assert lone["numbers_matched"] == -1 and lone["pairs_matched"] == -1 and lone["phrase_in_title"] == 1
    assert order_features("drill", [], OrderWords()).shape == (0, len(FEATURES))  # a query that found nothing


@pytest.mark.fast
def test_letter_runs_still_meet_where_a_word_is_misspelt_and_each_hit_is_measured_against_the_lists_best():
    assert letter_runs("Toilet, Seat", 3) == {" to", "toi", "oil", "ile", "let", "et ", "t s", " se", "sea", "eat", "at "}
    toilet = _hit("1", "Elongated Toilet Seat in White", 1.0)
    cushion = _hit("2", "Seat Cushion", 0.5)
    first, second = (dict(zip(FEATURES, row, strict=True))
                     for row in order_features("toliet seat", [toilet, cushion], OrderWords()))
    assert first["coverage"] == second["coverage"] == 0.5  # "toliet" is no word of either title ...
    assert first["trigrams_in_title"] > second["trigrams_in_title"]  # ... but its start " to" and "et " meet toilet's
    asked = letter_runs("toliet seat", 3)
    shared = asked & letter_runs("Elongated Toilet Seat in White", 3)
    assert first["trigrams_in_title"] == pytest.approx(len(shared) / len(asked))
    assert first["title_trigrams_asked"] == pytest.approx(len(shared) / len(letter_runs(toilet.product["title"], 3)))
    assert second["title_trigrams_asked"] > first["title_trigrams_asked"]  # the short title is more what was asked
    assert first["trigrams_behind_best"] == 0 and second["trigrams_behind_best"] < 0
    assert first["coverage_behind_best"] == second["coverage_behind_best"] == 0


@pytest.mark.fast
def test_its_scores_take_the_incoming_scale_and_stay_above_the_hits_it_did_not_read():
    incoming = np.array([3.0, 2.5, 2.0, 1.0])
    moved = on_incoming_scale(np.array([-5.0, 10.0, 0.0, 1.0]), incoming)
    assert np.argmax(moved) == 1 and moved.min() >= incoming.min()
    assert moved.mean() == pytest.approx(incoming.mean(), abs=0.3) and moved.max() <= incoming.max() + incoming.std()
    assert np.array_equal(on_incoming_scale(np.array([1.0, 2.0]), np.array([2.0, 2.0])), np.array([2.0, 2.0]))


@pytest.mark.fast
def test_labels_put_the_95th_percentile_grade_on_top_and_clip_outliers():
    grades = {"drill": {f"p{i}": 1.0 for i in range(99)} | {"big": 50.0}}
    scale = label_scale(grades)
    assert scale == pytest.approx(LABELS)  # one big order does not squeeze the others into label 0
    assert list(_labels(["p1", "big", "unseen"], grades["drill"], scale)) == [LABELS, LABELS, 0]
    judged = {"saw": {"a": 2.0, "b": 1.0, "c": 0.67}, "hammer": {f"x{i}": 2.0 for i in range(20)}}
    assert list(_labels(["a", "b", "c"], judged["saw"], label_scale(judged))) == [6, 3, 2]


@pytest.mark.slow
def test_a_real_learned_order_is_checked_served_explained_and_switched_off(homedepot_small, tmp_path):
    pytest.importorskip("lightgbm")
    engine = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))
    engine.ingest(homedepot_small / "products.jsonl", feed="homedepot", fresh=True)
    pairs = pairs_from_qrels(homedepot_small / "qrels.tsv")
    train, check = split_pairs(pairs, 0.2, 0)

    refused = train_order(engine, train, check, TINY.model_copy(update={"min_improvement": 1.0}), pairs.sources)
    assert not refused.published and refused.reason.startswith("not served") and refused.validation
    assert engine.models.order() is None and engine.models.versions() == []  # nothing registered, nothing served

    report = train_order(engine, train, check, TINY.model_copy(update={"min_improvement": -1.0}), pairs.sources)
    assert report.published and report.version == "v0001" and 0 < report.queries <= train.queries
    assert report.rows <= report.queries * TINY.order_depth and report.validation.queries == check.queries
    manifest = engine.models.manifest("v0001")
    assert manifest.kind == "learned-order" and manifest.model_file == "model.txt" and engine.models.order() == "v0001"

    # a served first page: the first phase's top hits (from the same candidates, as trained) re-ordered by the
    # model, with its score in each hit's explanation
    query, depth = "cordless drill", engine.settings.tuning.order_depth
    first = engine.first_phase(query, depth)
    response = engine.search(query)
    ran = next(p for p in response.phases if p.name == "learned_order")
    assert ran.status == "ran" and ran.depth == len(first)
    model = LearnedOrderModel(engine.models.model_path("v0001"))
    scores = model.scores(order_features(query, first, OrderWords()))
    expected = [first[i].product["id"] for i in np.argsort(-scores, kind="stable")]
    assert len(response.hits) == 10 and [h.product["id"] for h in response.hits] == expected[:10]
    assert [h.explanation.learned_order for h in response.hits] == [round(float(s), 4)
                                                                    for s in sorted(scores)[::-1][:10]]
    served = [h.score for h in response.hits]
    assert served == sorted(served, reverse=True) and min(served) >= min(h.score for h in first) - 1e-6
    # the last phase while no cross-encoder serves, and not in the retrieval ablations
    assert [p.name for p in engine.pipeline().profile.phases][-1] == "learned_order"
    assert all(p.name != "learned_order" for p in engine.search(query, profile="bm25").phases)

    cli = CliRunner()
    where = ["--index", str(tmp_path / "index")]
    listed = cli.invoke(app, ["models", "list", *where], env=hd_env(homedepot_small))
    assert listed.exit_code == 0 and '"order": "v0001"' in listed.output
    wrong = cli.invoke(app, ["models", "reranker", "v0001", *where], env=hd_env(homedepot_small))
    assert wrong.exit_code == 1 and "not a cross-encoder" in wrong.output
    off = cli.invoke(app, ["models", "order", "none", *where], env=hd_env(homedepot_small))
    assert off.exit_code == 0 and '"order": null' in off.output
    engine.close()
    plain = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))
    assert all(p.name != "learned_order" for p in plain.search(query).phases)
    assert cli.invoke(app, ["models", "order", "v0001", *where], env=hd_env(homedepot_small)).exit_code == 0
    plain.close()

    # a version another release trained on other features is left out: searches go on in the first phase's order
    stale = tmp_path / "stale"
    stale.mkdir()
    rng = np.random.default_rng(0)
    fit_order([(rng.random((10, 5)), np.arange(10) % 3) for _ in range(20)], TINY, stale / "model.txt")
    with pytest.raises(StaleOrderModel, match="reads 5 features"):
        LearnedOrderModel(stale / "model.txt")
    reopened = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))
    old = reopened.models.register(stale, manifest.model_copy(update={"version": "", "created": ""}))
    reopened.use_order(old.version)
    went_on = reopened.search(query, size=depth)
    assert next(p for p in went_on.phases if p.name == "learned_order").status == "skipped: not available"
    assert [h.product["id"] for h in went_on.hits] == [h.product["id"] for h in first]
    reopened.use_order("v0001")
    reopened.close()

    text = tmp_path / "index" / "models" / "v0001" / "model.txt"
    text.write_text(text.read_text() + "\n")
    with pytest.raises(ModelFileError, match="model.txt has SHA-256"):
        vitrina.open(tmp_path / "index", **hd_settings(homedepot_small)).search(query)


@pytest.mark.slow
def test_training_the_rerankers_trains_the_learned_order_first_and_the_cross_encoder_reads_its_order(
        homedepot_small, tmp_path):
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    from vitrina.learn.tuning.train import train_reranker

    engine = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))
    engine.ingest(homedepot_small / "products.jsonl", feed="homedepot", fresh=True)
    pairs = pairs_from_qrels(homedepot_small / "qrels.tsv")
    report = train_reranker(engine, pairs, TINY.model_copy(update={
        "min_improvement": -1.0, "rerank_depth": 10, "rerank_layers": 1, "rerank_epochs": 0.25}))
    assert report.order is not None and report.order.published and report.order.version == "v0001"
    assert report.published and report.version == "v0002"  # the cross-encoder, checked over the learned order
    assert (engine.models.order(), engine.models.reranker()) == ("v0001", "v0002")
    ran = [p.name for p in engine.search("cordless drill").phases]
    assert ran.index("learned_order") < ran.index("cross_encoder")
    # a cross-encoder trained again reads the learned order's top, not the serving cross-encoder's it would replace
    read = engine.before_reranker("cordless drill", 10)
    assert all(h.explanation.learned_order is not None and h.explanation.cross_encoder is None for h in read)
    engine.use_reranker(None)
    assert [h.product["id"] for h in read] == [h.product["id"] for h in engine.search("cordless drill", size=10).hits]
    engine.close()
