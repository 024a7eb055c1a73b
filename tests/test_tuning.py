"""An index's own encoder: pairs from judgments and from the log, a tiny real fine-tune on Home Depot data,
ONNX export, held-out check, publish, rollback, tampered files and refusals."""

import itertools
import json
import random
import shutil

import numpy as np
import pytest

import vitrina
from vitrina.catalog.embedding_text import embedding_text
from vitrina.catalog.product import Product
from vitrina.config import Settings, TuningSettings
from vitrina.learn.objective import Objective
from vitrina.learn.tuning.blend import Blend
from vitrina.learn.tuning.finetune import fine_tune
from vitrina.learn.tuning.hardware import training_hardware
from vitrina.learn.tuning.mining import MINE_DEPTH, mined_negatives
from vitrina.learn.tuning.pairs import PairSet, TrainingPair, pairs_from_qrels, pairs_from_window, split_queries
from vitrina.learn.tuning.registry import ModelFileError
from vitrina.learn.tuning.train import INT8_RERANKER_LOSS, WEIGHT_STEPS, TrainingRefused, train_encoder, validation_pools
from vitrina.learn.window import LoggedSearch, Outcome, Shown, Window
from vitrina.rank.cross_encoder import CLOSE_SHARE, combined_values, score_spread


def test_the_query_split_is_seeded_and_disjoint():
    ids = [f"q{i}" for i in range(100)]
    train, held = split_queries(ids, 0.2, seed=0)
    assert len(held) == 20 and not set(train) & set(held) and sorted(train + held) == sorted(ids)
    assert split_queries(list(reversed(ids)), 0.2, seed=0) == (train, held)
    assert split_queries(ids, 0.2, seed=1)[1] != held


def test_pairs_from_judgments_weight_by_grade_and_take_low_grades_as_hard_negatives(tmp_path):
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query_id\tquery\tproduct_uid\trelevance\n"
                     "a\tcordless drill\t1\t3\na\tcordless drill\t2\t2\na\tcordless drill\t3\t1.33\n"
                     "a\tcordless drill\t5\t1.67\n"
                     "b\tnothing good\t4\t1\n")
    pairs = pairs_from_qrels(qrels)
    assert [(p.product_id, p.weight, p.negatives) for p in pairs.pairs] == [("1", 2.0, ["3"]), ("2", 1.0, ["3"])]
    assert pairs.sources == {"qrels": 2} and pairs.queries == 1
    assert pairs.left_out == {"no product graded high enough": 1}
    # graded in between: neither, never mined as a negative; kept at its weight on the positives' scale
    assert {q: {pid: round(w, 2) for pid, w in graded.items()} for q, graded in pairs.unsure.items()} == \
        {"cordless drill": {"5": 0.67}}
    assert pairs_from_qrels(qrels, {"b"}).pairs == []


def test_a_split_keeps_its_queries_in_between_judgments_and_mined_negatives_join_a_pairs_own():
    pairs = PairSet(pairs=[TrainingPair(query="drill", product_id="1", weight=1, negatives=["3"], source="qrels"),
                           TrainingPair(query="saw", product_id="2", weight=1, source="qrels")],
                    unsure={"drill": {"5": 0.5}, "saw": {"6": 0.5}})
    drills = pairs.of_queries({"drill"})
    assert [p.product_id for p in drills.pairs] == ["1"] and drills.unsure == {"drill": {"5": 0.5}} and drills.queries == 1
    mined = pairs.with_negatives({"drill": ["3", "7"], "hammer": ["8"]})
    assert [p.negatives for p in mined.pairs] == [["3", "7"], []]  # no repeat, and only the query's own
    assert pairs.pairs[0].negatives == ["3"]  # the set it came from is left as it was


def test_negatives_are_mined_from_the_engines_top_but_never_a_named_or_in_between_product(sample_engine):
    top = [h.product["id"] for h in sample_engine.search("red dress", size=MINE_DEPTH, profile="rrf").hits]
    assert len(top) >= 6
    pairs = PairSet(pairs=[TrainingPair(query="red dress", product_id=top[0], weight=1, negatives=[top[1]],
                                        source="qrels")], unsure={"red dress": {top[2]: 0.5}})
    mined = mined_negatives(sample_engine, pairs, per_query=3, seed=0)
    assert len(mined["red dress"]) == 3 and set(mined["red dress"]) <= set(top[3:])
    assert mined == mined_negatives(sample_engine, pairs, per_query=3, seed=0)  # seeded
    assert mined_negatives(sample_engine, pairs, per_query=0, seed=0) == {}


def _search(sid, shown, outcomes, key="red dress"):
    return LoggedSearch(sid, key, "u1", [Shown(i + 1, pid, i + 1, None) for i, pid in enumerate(shown)], outcomes)


def test_pairs_from_the_log_weight_by_objective_and_take_skipped_results_above_as_hard_negatives():
    window = Window(searches=[
        _search("s1", ["p1", "p2", "p3", "p4"], {"p3": Outcome(clicked=True)}),
        _search("s2", ["p1", "p2", "p3"], {"p2": Outcome(clicked=True, carted=True, purchases=1, revenue=50)}),
        _search("s3", ["p9"], {}),
    ])
    pairs = pairs_from_window(window, Objective.named("conversion"))
    by_search = {(p.product_id, p.source): p for p in pairs.pairs}
    click, bought = by_search[("p3", "click")], by_search[("p2", "purchase")]
    # shown above and not acted on; p2, skipped in s1, was bought in s2: not a negative of the query
    assert click.negatives == ["p1"] and bought.negatives == ["p1"]
    assert bought.weight > click.weight * 5  # a purchase is worth 1.4 under conversion, a click 0.1
    assert abs(np.mean([p.weight for p in pairs.pairs]) - 1.0) < 1e-9
    assert pairs.sources == {"click": 1, "purchase": 1} and pairs.queries == 1
    clicks = pairs_from_window(window, Objective.named("clicks"))
    assert {p.product_id: round(p.weight, 6) for p in clicks.pairs} == {"p3": 1.0, "p2": 1.0}


def test_pairs_from_the_log_are_one_per_query_and_product_with_their_searches_gains_summed():
    window = Window(searches=[
        _search("s1", ["p1", "p2", "p3"], {"p3": Outcome(clicked=True)}),
        _search("s2", ["p4", "p3"], {"p3": Outcome(clicked=True, carted=True)}),
        _search("s3", ["p1", "p3"], {"p3": Outcome(clicked=True)}),
        _search("s4", ["p1", "p2"], {"p2": Outcome(clicked=True)}, key="blue dress"),
    ])
    pairs = pairs_from_window(window, Objective.named("clicks"))
    by_query = {(p.query, p.product_id): p for p in pairs.pairs}
    assert sorted(by_query) == [("blue dress", "p2"), ("red dress", "p3")] and pairs.queries == 2
    red = by_query[("red dress", "p3")]
    assert red.source == "add_to_cart" and red.negatives == ["p1", "p2", "p4"]  # every search's skipped, joined
    assert red.weight == pytest.approx(3 * by_query[("blue dress", "p2")].weight)  # three clicks against one
    assert by_query[("blue dress", "p2")].negatives == ["p1"]  # another query's choices are its own affair


def test_a_check_from_the_log_compares_models_only_on_what_shoppers_looked_at(sample_engine):
    window = Window(searches=[
        _search("s1", ["p1", "p2", "p3", "p4"], {"p3": Outcome(clicked=True)}),
        _search("s2", ["p5", "p6"], {"p5": Outcome(clicked=True)}, key="blue dress"),
    ])
    logged = pairs_from_window(window, Objective.named("clicks"))
    assert logged.examined() == {"blue dress": ["p5"], "red dress": ["p1", "p2", "p3"]}  # p4, p6: below a click
    judged = PairSet(pairs=[TrainingPair(query="linen shirt", product_id="judged-1", weight=1, source="qrels")])
    assert judged.examined() == {}
    pools = validation_pools(sample_engine, PairSet(pairs=logged.pairs + judged.pairs))
    assert pools["red dress"] == ["p1", "p2", "p3"] and pools["blue dress"] == ["p5"]  # no search: what was seen
    found = [h.product["id"] for h in sample_engine.search("linen shirt", size=100, profile="rrf").hits]
    assert found and pools["linen shirt"] == [*found, "judged-1"]  # a judged query: the engine's top and its judged


def hd_settings(slice_root):
    """The generic domain, and one vector cache for the slice: its base vectors are encoded once a session."""
    return {"settings": Settings(domain="generic", encoder={"cache_path": slice_root / "vectors.sqlite"})}


def hd_env(slice_root) -> dict[str, str]:
    return {"VITRINA_DOMAIN": "generic", "VITRINA_ENCODER__CACHE_PATH": str(slice_root / "vectors.sqlite")}


TINY = TuningSettings(epochs=1, batch_size=16, learning_rate=5e-5, rerank_batch_size=16, max_seq_length=32,
                      min_pairs=50, validation_fraction=0.2)


def test_training_runs_in_bf16_with_eager_attention_only_on_a_cpu_that_multiplies_bf16(monkeypatch):
    torch = pytest.importorskip("torch", reason="the `torch` extra is not installed")
    from vitrina.learn.tuning import hardware

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(hardware, "cpu_bf16_units", lambda: "amx")
    amx = hardware.training_hardware(TuningSettings())
    assert (amx.device, amx.precision) == ("cpu", "bf16")
    assert amx.arguments() == {"use_cpu": True, "fp16": False, "bf16": True}
    # the fused attention is slow backward in bf16: eager, its dropout drawn by numpy, or as transformers has it
    assert amx.seeded_dropout and amx.model_kwargs() == {"attn_implementation": "eager_seeded_dropout"}
    torch_drawn = hardware.training_hardware(TuningSettings(dropout_sampler="torch"))
    assert not torch_drawn.seeded_dropout and torch_drawn.model_kwargs() == {"attn_implementation": "eager"}
    assert hardware.training_hardware(TuningSettings(precision="fp32")).precision == "fp32"  # a setting wins

    monkeypatch.setattr(hardware, "cpu_bf16_units", lambda: "avx512_bf16")
    assert hardware.training_hardware(TuningSettings()).precision == "bf16"
    monkeypatch.setattr(hardware, "cpu_bf16_units", lambda: None)
    plain = hardware.training_hardware(TuningSettings())
    assert plain.precision == "fp32" and plain.arguments()["use_cpu"] and plain.model_kwargs() == {}

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    gpu = hardware.training_hardware(TuningSettings())
    assert (gpu.device, gpu.precision) == ("cuda", "fp16") and gpu.arguments() == {
        "use_cpu": False, "fp16": True, "bf16": False} and gpu.model_kwargs() == {}
    assert not gpu.seeded_dropout  # a GPU draws its masks fast


def test_dropout_drawn_by_numpy_keeps_and_scales_as_torchs_and_repeats_with_its_seed():
    torch = pytest.importorskip("torch", reason="the `torch` extra is not installed")
    from vitrina.learn.tuning.dropout import SeededDropout

    x = torch.ones(200_000, requires_grad=True)
    drop = SeededDropout(0.1, np.random.default_rng(7))
    out = drop(x)
    kept = out > 0
    assert abs(kept.float().mean().item() - 0.9) < 0.003  # 1 - p kept
    assert torch.allclose(out[kept], torch.tensor(1 / 0.9))  # and scaled so the expectation holds
    out.sum().backward()
    assert torch.equal(x.grad, out.detach())  # the gradient goes through the kept ones only, scaled alike
    assert torch.equal(SeededDropout(0.1, np.random.default_rng(7))(x), out)  # the same seed, the same mask
    assert not torch.equal(drop(x), out)  # the next draw is another mask
    drop.eval()
    assert drop(x) is x  # evaluating: no dropout


def test_a_model_with_dropout_drawn_by_numpy_reads_as_before_and_drops_attention_probabilities_too():
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    import torch
    from transformers import AutoModel, AutoTokenizer

    from vitrina.learn.tuning.dropout import SeededDropout, register_attention, use_seeded_dropout
    from vitrina.learn.tuning.train import default_base

    batch = AutoTokenizer.from_pretrained(default_base())(["cordless drill", "led bulb soft white"], padding=True,
                                                          return_tensors="pt")
    plain = AutoModel.from_pretrained(default_base(), attn_implementation="eager").eval()

    def seeded_model():  # only the attention probabilities dropped: what training changes, the attention function did
        return AutoModel.from_pretrained(default_base(), attn_implementation=register_attention(),
                                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.5)

    seeded = seeded_model()
    assert use_seeded_dropout(seeded, seed=0) == 1 + 3 * 6  # the embeddings', and three in each of six layers
    assert not any(type(m) is torch.nn.Dropout for m in seeded.modules())
    assert all(isinstance(m.dropout, SeededDropout) for m in seeded.modules() if hasattr(m, "dropout"))
    with torch.no_grad():
        expected = plain(**batch).last_hidden_state
        # evaluating, it is transformers' eager attention, the padding mask included (the first text is padded)
        assert torch.allclose(seeded.eval()(**batch).last_hidden_state, expected, atol=1e-5)
        seeded.train()
        dropped = seeded(**batch).last_hidden_state
        assert not torch.allclose(dropped, expected, atol=1e-2)
        again = seeded_model()
        use_seeded_dropout(again, seed=0)
        assert torch.equal(again.train()(**batch).last_hidden_state, dropped)  # the same seed, the same masks


@pytest.mark.slow
def test_a_tiny_real_fine_tune_is_exported_checked_published_and_rolled_back(homedepot_small, tmp_path):
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    engine = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))
    engine.ingest(homedepot_small / "products.jsonl", feed="homedepot", fresh=True)
    base_model_id = engine.encoder.model_id
    before = engine.encoder.encode_query("cordless drill")
    pairs = pairs_from_qrels(homedepot_small / "qrels.tsv")
    assert len(pairs.pairs) > 200

    # A few steps are enough to be refused: no model can beat the serving one by a whole nDCG point. The
    # fine-tune is the run's `tune` (what a model trained elsewhere replaces): it gets the training queries only.
    tuned_on: list[PairSet] = []

    def tune(base, train, text_of, out_dir, settings, log):
        tuned_on.append(train)
        return fine_tune(base, train, text_of, out_dir, settings, log)

    rejected = train_encoder(engine, pairs, TINY.model_copy(update={"min_improvement": 1.0, "epochs": 0.1}),
                             tune=tune)
    assert not rejected.published and rejected.reason.startswith("not published")
    trained_queries = {p.query for p in tuned_on[0].pairs}
    assert len(tuned_on) == 1 and len(tuned_on[0].pairs) == rejected.train_pairs
    assert trained_queries < {p.query for p in pairs.pairs}  # the held-out queries stay out of training
    assert engine.model_version is None and engine.models.versions() == []  # the serving model stays

    # A quarter epoch (a dozen steps) is enough to move the vectors; more would only cost the suite time.
    report = train_encoder(engine, pairs, TINY.model_copy(update={"min_improvement": -1.0, "epochs": 0.25,
                                                                  "encoder_mined_negatives": True}))
    assert report.published and report.version == "v0001" and report.fine_tune and report.fine_tune.steps > 0
    # Mined negatives (off by default) give nearly every example a hard negative; the judged ones alone a few.
    assert any("negatives mined for" in note for note in report.notes)
    assert report.fine_tune.with_hard_negative > 0.9 * report.fine_tune.examples
    assert report.fine_tune.precision == training_hardware(TINY).precision  # bf16 where the CPU has AMX tiles
    assert report.fine_tune.batch_size == TINY.batch_size  # a batch the setting's size or smaller, never larger
    assert report.export and report.export.fp32_min_cosine > 0.999  # the ONNX graph is the trained model
    assert report.validation and report.validation.queries > 0
    assert report.switch and report.switch.products == engine.count()
    assert engine.model_version == "v0001" and engine.encoder.model_id != base_model_id
    assert engine.store.meta().model_version == "v0001"
    assert float(engine.encoder.encode_query("cordless drill") @ before) < 0.9999  # the new model's vectors
    reader = engine.store.open_reader()
    some = next(iter(reader.ids()))
    stored = reader.get([some], with_vectors=True)[some][1]
    reader.close()
    fresh = engine.encoder.encoder.encode([embedding_text(Product(**engine.get(some)))])[0]
    assert np.allclose(stored, fresh, atol=1e-4)  # the published vectors are the new model's
    assert engine.search("cordless drill", profile="vector").hits
    # The blend was scored on the same held-out queries; kept only where it beat 1x, and with the version.
    assert report.blend and report.blend.queries == report.validation.queries
    assert report.blend.ndcg >= report.blend.ndcg_at_1x and "blend-trial" not in engine.profiles.profiles
    assert (1.0, 1.0, report.blend.ndcg_at_1x) in report.blend.trials and len(report.blend.trials) >= 5
    declared = engine.profiles.get("full")
    follower = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))  # as a worker process serving the same index
    engine.use_blend(Blend(semantic=3.0, vectors=2.0))
    assert follower.refresh() and not follower.refresh()  # a blend fitted after publishing reaches the followers
    assert follower.pipeline().profile.signals["semantic"] == pytest.approx(3 * declared.signals["semantic"])
    follower.close()
    served = engine.pipeline().profile
    assert served.signals["semantic"] == pytest.approx(3 * declared.signals["semantic"])
    assert served.retrievers["vector"] == pytest.approx(2 * declared.retrievers["vector"])
    assert served.retrievers["bm25"] == declared.retrievers["bm25"]
    assert engine.pipeline("vector").profile.retrievers == {"vector": 1.0}  # ablations are measured as declared
    engine.close()

    reopened = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))  # no flag: the index names its model
    assert reopened.model_version == "v0001" and reopened.search("cordless drill").hits
    assert reopened.pipeline().profile.signals["semantic"] == pytest.approx(3 * declared.signals["semantic"])
    reopened.close()
    from typer.testing import CliRunner

    from vitrina.cli import app

    cli, where = CliRunner(), ["--index", str(tmp_path / "index")]
    listed = json.loads(cli.invoke(app, ["models", "list", *where], env=hd_env(homedepot_small)).stdout)
    assert listed["serving"] == "v0001" and listed["versions"][0]["pairs"] == {"qrels": len(pairs.pairs)}
    back = cli.invoke(app, ["models", "use", "base", *where], env=hd_env(homedepot_small))
    assert back.exit_code == 0, back.output
    switched = json.loads(back.stdout)
    assert switched["previous"] == "v0001" and switched["embedded"] == 0  # the base vectors came from the cache
    base = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))
    assert base.model_version is None and base.encoder.model_id == base_model_id
    assert base.pipeline().profile.signals == declared.signals  # the base model serves with the declared weights
    with pytest.raises(ValueError, match="trained model version"):
        base.use_blend(Blend(semantic=2.0))
    again = base.use_model("v0001")
    assert again.embedded == 0 and base.model_version == "v0001"
    assert base.pipeline().profile.signals["semantic"] == pytest.approx(3 * declared.signals["semantic"])
    base.close()
    missing = cli.invoke(app, ["models", "use", "v0009", *where], env=hd_env(homedepot_small))
    assert missing.exit_code == 1 and "no model version 'v0009'" in missing.output

    model = tmp_path / "index" / "models" / "v0001" / "model.onnx"
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelFileError, match="SHA-256"):
        vitrina.open(tmp_path / "index", **hd_settings(homedepot_small)).search("drill")


def test_training_refuses_too_few_pairs_naming_how_many(tmp_path, sample_engine):
    few = PairSet(pairs=[TrainingPair(query="red dress", product_id="x", weight=1, source="click")], queries=1,
                  sources={"click": 1})
    with pytest.raises(TrainingRefused, match="1 pairs over 1 queries .* at least 200"):
        train_encoder(sample_engine, few, TuningSettings())


@pytest.mark.slow
def test_the_service_retrains_a_tenant_from_its_events_in_a_child_process(tmp_path, sample_engine, monkeypatch):
    """Shoppers' clicks and purchases through the API, then the scheduler's run: a child `vitrina train --tenant`
    publishes a model trained on them, and the tenant's engine swaps it in."""
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    from fastapi.testclient import TestClient

    from vitrina.serve.app import create_app
    from vitrina.serve.service import Service

    tiny = {"EPOCHS": "1", "BATCH_SIZE": "8", "MAX_SEQ_LENGTH": "32", "MIN_PAIRS": "20", "MIN_IMPROVEMENT": "-1",
            "RETRAIN_EVERY_EVENTS": "40", "VALIDATION_FRACTION": "0.2"}
    for name, value in tiny.items():
        monkeypatch.setenv(f"VITRINA_TUNING__{name}", value)  # read by this process and the child it starts
    index = tmp_path / "index"
    shutil.copytree(sample_engine.path, index, ignore=shutil.ignore_patterns("models", "*.lock"))
    settings = Settings(service={"data_dir": tmp_path / "service", "admin_key": "admin"}, api_key="key",
                        learning={"enabled": False})
    service = Service.build(settings)
    service.bootstrap(index)
    from vitrina.serve.retrain import RetrainScheduler

    scheduler = RetrainScheduler(settings, service.db, service.tenants, service.logger)
    headers = {"Authorization": "Bearer key"}
    queries = [f"{colour} {kind}" for colour in ("black", "navy", "white", "red", "grey", "beige")
               for kind in ("dress", "shirt", "jeans", "boots", "jacket", "sneakers")]
    with TestClient(create_app(service)) as client:
        for i, query in enumerate(queries):
            found = client.post("/v1/default/search", json={"query": query, "user_id": f"u{i}"}, headers=headers)
            body = found.json()
            hit = body["hits"][1]["product"]
            batch = [{"event_id": f"{i}-{kind}", "type": kind, "search_id": body["search_id"], "product_id": hit["id"],
                      "position": 2, "user_id": f"u{i}", "timestamp": "2026-11-20T10:00:00Z",
                      **({"price": hit["price"], "currency": hit["currency"]} if kind == "purchase" else {})}
                     for kind in ("click", "purchase")]
            assert len(client.post("/v1/default/events", json={"events": batch}, headers=headers)
                       .json()["stored"]) == 2
        assert scheduler.due("default")
        assert scheduler.run("default") == 0, scheduler.runs[-1]["output"]
        assert not scheduler.due("default")  # waits for as many new events again
        engine = service.tenants.engine("default")
        assert engine.model_version == "v0001"
        manifest = engine.models.manifest("v0001")
        assert manifest.pairs == {"purchase": len(queries)}  # a click then a purchase: one pair, as a purchase
        assert client.post("/v1/default/search", json={"query": "black dress"}, headers=headers).json()["hits"]
    service.close()


def test_texts_encoded_by_length_give_the_padded_batchs_embeddings_and_loss(monkeypatch):
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from vitrina.learn.tuning import loss
    from vitrina.learn.tuning.loss import LengthSortedMNRLoss, embed_by_length
    from vitrina.learn.tuning.train import default_base

    model = SentenceTransformer(default_base(), device="cpu")
    model.eval()  # no dropout: the two ways must agree exactly, up to float rounding
    queries = ["drill", "cordless hammer drill with battery", "led bulb", "outdoor wall lantern black finish"]
    products = ["DEWALT 20V MAX Cordless Drill", "Milwaukee M18 Hammer Drill Kit with 2 Batteries and Charger",
                "Cree 60W Equivalent Soft White A19 LED", "Hampton Bay 1-Light Black Outdoor Wall Lantern Sconce"]
    negatives = ["Ryobi Drill Bit Set (70-Piece)", "Philips 100W Daylight", "Glacier Bay Faucet in Chrome",
                 "Home Decorators Collection 12 in. x 12 in. Porcelain Floor and Wall Tile (10 sq. ft. / case)"]
    columns = [model.tokenize(texts) for texts in (queries, products, negatives)]
    labels = torch.arange(len(queries))
    with torch.no_grad():
        padded = [model(dict(c))["sentence_embedding"] for c in columns]  # a model's pass adds its outputs to a dict
        for run in (1, 3, 64):  # runs cut across the columns: each text must come back to its own place
            by_length = embed_by_length(model, columns, run)
            assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(padded, by_length, strict=True))
        calls = []
        monkeypatch.setattr(loss, "embed_by_length", lambda *a: calls.append(a) or embed_by_length(*a))
        sorted_loss = LengthSortedMNRLoss(model, run=3)(columns, labels)
        assert len(calls) == 1  # the tokenizer's features (with sentence-transformers' modality) go by length
        assert torch.isclose(sorted_loss, MultipleNegativesRankingLoss(model)([dict(c) for c in columns], labels),
                             atol=1e-5)
        both = ("query_to_doc", "doc_to_query")  # tuning.encoder_loss_directions, symmetric
        symmetric = LengthSortedMNRLoss(model, run=3, directions=both)(columns, labels)
        assert torch.isclose(symmetric, MultipleNegativesRankingLoss(model, directions=both)(
            [dict(c) for c in columns], labels), atol=1e-5)
        assert not torch.isclose(symmetric, sorted_loss, atol=1e-3)
    assert columns[0]["input_ids"].shape[1] < columns[2]["input_ids"].shape[1]  # the columns were padded apart


def test_a_cross_encoders_pairs_read_by_length_give_the_padded_batchs_loss():
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from vitrina.learn.tuning.loss import LengthSortedBCELoss
    from vitrina.learn.tuning.train import default_base

    torch.manual_seed(0)
    model = CrossEncoder(default_base(), num_labels=1, device="cpu")
    model.model.eval()
    queries = ["drill", "cordless hammer drill with battery", "led bulb", "outdoor wall lantern black finish", "tile"]
    products = ["DEWALT 20V MAX Cordless Drill", "Ryobi Drill Bit Set (70-Piece)", "Cree 60W Equivalent A19 LED",
                "Hampton Bay 1-Light Black Outdoor Wall Lantern Sconce", "Home Decorators Collection 12 in. x 12 in. "
                "Porcelain Floor and Wall Tile (10 sq. ft. / case)"]
    labels = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.5])
    with torch.no_grad():
        padded = BinaryCrossEntropyLoss(model)([queries, products], labels)
        for run in (1, 2, 32):
            assert torch.isclose(LengthSortedBCELoss(model, run=run)([queries, products], labels), padded, atol=1e-5)


def test_a_cross_encoders_pairs_read_by_length_give_the_padded_batchs_gradients():
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from vitrina.learn.tuning.loss import LengthSortedBCELoss
    from vitrina.learn.tuning.train import default_base

    torch.manual_seed(0)
    model = CrossEncoder(default_base(), num_labels=1, device="cpu")
    model.model.eval()  # no dropout: the two ways must agree up to float rounding
    shapes = []
    model.model.get_input_embeddings().register_forward_hook(lambda module, args, out: shapes.append(args[0].shape))
    queries = ["drill", "cordless hammer drill with battery", "led bulb", "outdoor wall lantern", "tile", "faucet"]
    products = ["DEWALT 20V MAX Cordless Drill", "Ryobi Drill Bit Set (70-Piece)", "Cree 60W Equivalent A19 LED",
                "Hampton Bay 1-Light Black Outdoor Wall Lantern Sconce", "12 in. x 12 in. Porcelain Floor Tile",
                "Glacier Bay Faucet in Chrome"]
    labels = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.5, 0.0])
    gradients = []
    for loss in (BinaryCrossEntropyLoss(model), LengthSortedBCELoss(model, run=2)):
        model.zero_grad()
        loss([queries, products], labels).backward()
        gradients.append({name: p.grad.clone() for name, p in model.model.named_parameters()
                          if name.endswith(("word_embeddings.weight", "layer.0.attention.self.query.weight"))})
    assert len(shapes) == 4 and sorted(w[0] for w in shapes[1:]) == [2, 2, 2]  # padded once, then three runs
    assert max(w[1] for w in shapes[1:]) == shapes[0][1] > min(w[1] for w in shapes[1:])  # each cut to its longest
    assert len(gradients[0]) == 2
    for name, padded in gradients[0].items():
        assert torch.allclose(gradients[1][name], padded, atol=1e-5), name


def test_a_listwise_cross_encoder_batch_holds_each_querys_pairs_together_in_first_seen_order():
    from vitrina.learn.tuning.crossencoder import by_query

    rows = {"query": ["drill", "lamp", "drill", "lamp", "drill"], "product": ["a", "b", "c", "d", "e"],
            "label": [1.0, 0.5, 0.0, 0.0, 0.0]}
    assert by_query(rows) == {"query": ["drill", "lamp"], "products": [["a", "c", "e"], ["b", "d"]],
                              "label": [[1.0, 0.0, 0.0], [0.5, 0.0]]}


def test_the_listwise_loss_is_each_lists_softmax_cross_entropy_toward_its_grades_read_by_length():
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    from vitrina.learn.tuning.loss import LengthSortedListwiseLoss
    from vitrina.learn.tuning.train import default_base

    torch.manual_seed(0)
    model = CrossEncoder(default_base(), num_labels=1, device="cpu")
    model.model.eval()
    queries = ["cordless drill", "outdoor wall lantern black finish", "nothing judged high"]
    lists = [["DEWALT 20V MAX Cordless Drill", "Ryobi Drill Bit Set (70-Piece)", "Cree 60W Equivalent A19 LED"],
             ["Hampton Bay 1-Light Black Outdoor Wall Lantern Sconce", "Glacier Bay Faucet in Chrome"],
             ["12 in. x 12 in. Porcelain Floor Tile"]]
    labels = [torch.tensor([1.0, 0.5, 0.0]), torch.tensor([1.0, 0.0]), torch.tensor([0.0])]
    with torch.no_grad():
        logits = [model.predict([(q, p) for p in products], activation_fn=torch.nn.Identity(), convert_to_tensor=True)
                  for q, products in zip(queries, lists, strict=True)]
        # the third list has no positive: it teaches no order and is left out of the mean
        expected = torch.stack([-(y / y.sum() * torch.log_softmax(s.float(), 0)).sum()
                                for s, y in zip(logits[:2], labels[:2], strict=True)]).mean()
        for run in (1, 2, 32):
            got = LengthSortedListwiseLoss(model, run=run)([queries, lists], labels)
            assert torch.isclose(got, expected, atol=1e-4)
        nothing = LengthSortedListwiseLoss(model)([queries[2:], lists[2:]], labels[2:])
    assert float(nothing) == 0.0


def test_a_tiny_listwise_cross_encoder_learns_to_put_each_querys_positive_first(tmp_path):
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    from vitrina.learn.tuning.crossencoder import train_cross_encoder
    from vitrina.learn.tuning.train import default_base

    texts = {"drill": "DEWALT 20V MAX Cordless Drill", "bits": "Ryobi Drill Bit Set (70-Piece)",
             "bulb": "Cree 60W Equivalent A19 LED Light Bulb", "lantern": "Hampton Bay Black Outdoor Wall Lantern",
             "faucet": "Glacier Bay Kitchen Faucet in Chrome", "tile": "Porcelain Floor Tile 12 in. x 12 in."}
    pairs = PairSet(pairs=[TrainingPair(query="cordless drill", product_id="drill", weight=3, negatives=["bits"],
                                        source="qrels"),
                           TrainingPair(query="led light bulb", product_id="bulb", weight=3, source="qrels"),
                           TrainingPair(query="outdoor lantern", product_id="lantern", weight=3, source="qrels")])
    mined = {"led light bulb": ["lantern", "drill"], "outdoor lantern": ["bulb", "tile"], "cordless drill": ["faucet"]}
    settings = TuningSettings(rerank_loss="listwise", rerank_epochs=8, rerank_batch_size=6, rerank_learning_rate=1e-4)
    report = train_cross_encoder(default_base(), pairs, texts.get, mined, tmp_path / "model", settings)
    assert report.loss == "listwise" and report.examples == 9 and report.positives == 3 and report.mined_negatives == 5
    assert report.steps == 8 * 2  # lists of 3 pairs on average: 6 pairs a batch are two lists, two batches an epoch
    model = CrossEncoder(str(tmp_path / "model"), device="cpu")
    for pair in pairs.pairs:
        others = sorted(set(pair.negatives) | set(mined[pair.query]))
        scores = model.predict([(pair.query, texts[pid]) for pid in [pair.product_id, *others]],
                               activation_fn=torch.nn.Identity())
        assert scores[0] > max(scores[1:]), pair.query


def test_the_cross_encoders_batches_of_similar_length_read_every_pair_once_an_epoch_in_a_seeded_order():
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    from vitrina.learn.tuning.batches import POOL, LengthGroupedBatchSampler, length_grouped_batches

    lengths = [random.Random(i).randint(8, 64) for i in range(64 * POOL * 2 + 37)]  # two full pools and a part
    batches = length_grouped_batches(lengths, 64, drop_last=False, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))  # every pair once
    assert [len(b) for b in batches].count(37) == 1 and all(len(b) in (64, 37) for b in batches)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    shuffled = list(range(len(lengths)))
    random.Random(0).shuffle(shuffled)
    at_random = sum(len(b) * max(lengths[i] for i in b) for b in (shuffled[k:k + 64] for k in range(0, len(lengths), 64)))
    assert padded < 0.8 * at_random  # far less padding than batches drawn at random
    assert length_grouped_batches(lengths, 64, drop_last=False, seed=0, epoch=0) == batches  # seeded
    assert length_grouped_batches(lengths, 64, drop_last=False, seed=0, epoch=1) != batches  # each epoch its own
    widths = [max(lengths[i] for i in b) for b in batches]
    assert widths != sorted(widths)  # shuffled: the batches do not grow longer through the epoch
    kept = length_grouped_batches(lengths, 64, drop_last=True, seed=0, epoch=0)
    assert all(len(b) == 64 for b in kept) and len(kept) == len(lengths) // 64
    sampler = LengthGroupedBatchSampler(list(range(len(lengths))), 64, False, seed=3, lengths=lengths)
    sampler.set_epoch(2)  # the trainer sets the epoch; the sampler follows it
    assert list(sampler) == length_grouped_batches(lengths, 64, False, 3, 2) and len(sampler) == len(batches)
    with pytest.raises(ValueError, match="3 lengths for a dataset of 4 rows"):
        LengthGroupedBatchSampler([0, 1, 2, 3], 2, False, lengths=[1, 2, 3])


def test_the_encoders_batch_shrinks_only_where_the_examples_would_fill_too_few_steps():
    from vitrina.learn.tuning.finetune import MIN_BATCH, MIN_STEPS, batch_for

    assert batch_for(34_419, 512) == 512  # Home Depot's judgments: 67 steps an epoch
    assert batch_for(7_000, 512) == 7_000 // MIN_STEPS  # a tenant's few thousand logged pairs: still MIN_STEPS steps
    assert batch_for(300, 512) == MIN_BATCH  # a very small set: not below MIN_BATCH, however few the steps
    assert batch_for(300, 8) == 8 and batch_for(100_000, 64) == 64  # never above what the setting asks
    tuning = Settings().tuning  # the cross-encoder has no in-batch negatives: its own batch and rate
    assert (tuning.batch_size, tuning.rerank_batch_size) == (1024, 64)
    assert batch_for(34_419, tuning.batch_size) == 537  # the default on Home Depot's judgments: 64 steps an epoch
    assert (tuning.learning_rate, tuning.rerank_learning_rate) == (1e-4, 5e-5)


def test_epochs_on_the_command_line_are_the_trained_models_own():
    from vitrina.cli_train import with_epochs

    settings = Settings()
    assert (settings.tuning.epochs, settings.tuning.rerank_epochs) == (1.0, 2.0)  # a fresh head takes more
    assert with_epochs(settings, None, reranker=True) == settings
    encoder, reranker = with_epochs(settings, 3, reranker=False), with_epochs(settings, 3, reranker=True)
    assert (encoder.tuning.epochs, encoder.tuning.rerank_epochs) == (3.0, 2.0)
    assert (reranker.tuning.epochs, reranker.tuning.rerank_epochs) == (1.0, 3.0)


def test_a_cross_encoder_can_keep_only_the_base_models_first_layers():
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from vitrina.learn.tuning.crossencoder import keep_layers
    from vitrina.learn.tuning.train import default_base

    model = AutoModelForSequenceClassification.from_pretrained(default_base(), num_labels=1)
    tokenizer = AutoTokenizer.from_pretrained(default_base())
    assert keep_layers(model, None) == 6 and keep_layers(model, 12) == 6  # all, or no more than it has
    batch = tokenizer(["cordless drill"], ["DEWALT 20V cordless drill"], return_tensors="pt")
    with torch.no_grad():
        hidden = model.base_model(**batch, output_hidden_states=True).hidden_states
        assert keep_layers(model, 3) == 3 and model.config.num_hidden_layers == 3
        kept = model.base_model(**batch, output_hidden_states=True).hidden_states
    assert len(kept) == 4 and torch.allclose(kept[-1], hidden[3])  # the first three, as they were


@pytest.mark.slow
def test_a_tiny_real_cross_encoder_is_trained_served_on_the_top_hits_and_switched_off(homedepot_small, tmp_path):
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    from vitrina.learn.tuning.crossencoder import train_cross_encoder
    from vitrina.learn.tuning.train import train_reranker

    engine = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))
    engine.ingest(homedepot_small / "products.jsonl", feed="homedepot", fresh=True)
    pairs = pairs_from_qrels(homedepot_small / "qrels.tsv")
    mined_for: list[dict[str, list[str]]] = []

    def tune(base, train, text_of, mined, out_dir, settings, log):  # the run's training step, as it is by default
        mined_for.append(mined)
        return train_cross_encoder(base, train, text_of, mined, out_dir, settings, log)

    # the cross-encoder alone, over the first phase's order (tests/test_learned_order.py: the two together); one
    # pass over its pairs, not the default two: what is checked here is what follows training
    report = train_reranker(engine, pairs, TINY.model_copy(update={"min_improvement": -1.0, "rerank_depth": 10,
                                                                    "rerank_layers": 3, "learned_order": False,
                                                                    "rerank_epochs": 1}),
                            tune=tune)
    assert report.published and report.version == "v0001" and report.validation
    # it learnt from the negatives mined for the training queries (mining.py), as many a query as the setting says
    assert len(mined_for) == 1 and mined_for[0] and all(len(m) <= TINY.mined_per_query for m in mined_for[0].values())
    assert any(n.startswith("cross-encoder of 3 layers:") and ", 1 epoch, batches by length," in n
               for n in report.notes)
    assert any(n.startswith("ONNX logits within 0.0") for n in report.notes)  # the graph is the trained model
    # the int8 graph serves only if the held-out check finds it as good as fp32, within INT8_RERANKER_LOSS
    precision, graphs = engine.models.manifest("v0001").precision, report.graphs
    assert set(graphs) == {"fp32", "int8"} and report.validation.trained == graphs[precision]
    assert (precision == "int8") == (graphs["int8"] >= graphs["fp32"] - INT8_RERANKER_LOSS)
    assert engine.models.reranker() == "v0001" and engine.model_version is None  # the encoder is untouched
    # its weight against the incoming scores was chosen on the held-out queries among those tried, and serves
    weight = engine.models.manifest("v0001").rerank_weight
    assert engine.models.manifest("v0001").max_length == TINY.max_seq_length  # it reads what it was trained on
    assert weight == report.validation.weight and set(report.validation.weights) == {str(w) for w in WEIGHT_STEPS}
    assert report.validation.trained == max(report.validation.weights.values())
    # its gate: the quartiles of how far apart the held-out queries' top scores were
    spreads = engine.models.manifest("v0001").rerank_spreads
    assert spreads == report.validation.spreads and spreads[0] <= spreads[1]
    # ... and it skips the searches at or past the upper one only where its check found it gained nothing there
    skips = engine.models.manifest("v0001").rerank_skips_apart
    assert report.validation.apart_gain is not None and skips == (report.validation.apart_gain <= 0)
    engine.close()
    settings = hd_settings(homedepot_small)["settings"]
    flat = settings.model_copy(update={"tuning": settings.tuning.model_copy(update={"rerank_selective": False})})
    engine = vitrina.open(tmp_path / "index", settings=flat)  # the same budget for every search: it reads
    engine.use_reranker(None)
    came = engine.search("cordless drill", size=40).hits
    incoming, score_of = [h.product["id"] for h in came], {h.product["id"]: h.score for h in came}
    engine.use_reranker("v0001")
    response = engine.search("cordless drill", size=40)
    ran = next(p for p in response.phases if p.name == "cross_encoder")
    assert ran.depth == engine.settings.tuning.rerank_depth and ran.status in ("ran", "late")
    scores = [h.explanation.cross_encoder for h in response.hits]
    read = [s for s in scores if s is not None]
    # at least one pass of 10 is read; within the budget up to the depth; the read ones first, in the combined order
    assert 10 <= len(read) <= ran.depth and all(s is None for s in scores[len(read):])
    logit_of = {h.product["id"]: h.explanation.cross_encoder for h in response.hits[:len(read)]}
    assert set(logit_of) == set(incoming[:len(read)])  # the hits it read are the top ones that came in
    top = incoming[:len(read)]
    logits = np.array([logit_of[pid] for pid in top])
    values = combined_values(np.array([score_of[pid] for pid in top]), logits, weight)
    served = [top.index(h.product["id"]) for h in response.hits[:len(read)]]
    # in the combined order, up to what rounding the logits to 4 decimals in the explanation can move
    slack = 3 * weight * 5e-5 / max(float(logits.std()), 1e-9)
    assert all(values[a] >= values[b] - slack for a, b in itertools.pairwise(served))
    assert all(h.explanation.cross_encoder is None for h in engine.search("cordless drill", profile="rrf").hits)
    engine.close()
    engine = vitrina.open(tmp_path / "index", **hd_settings(homedepot_small))  # selective, by default
    depth, budget = settings.tuning.rerank_depth, settings.tuning.rerank_budget_ms
    shares = []
    for query in sorted({pair.query for pair in pairs.pairs})[:12]:
        engine.use_reranker(None)
        spread = score_spread(np.array([h.score for h in engine.search(query, size=depth).hits]))
        engine.use_reranker("v0001")
        ran = next(p for p in engine.search(query).phases if p.name == "cross_encoder")
        if spread >= spreads[1] and skips:
            assert ran.status.startswith("skipped: the top hits' scores stand apart") and ran.budget_ms is None
        else:
            assert ran.budget_ms == (CLOSE_SHARE * budget if spread < spreads[0] else budget)
        shares.append(ran.budget_ms)
    assert budget in shares and CLOSE_SHARE * budget in shares  # read, given twice ...
    assert (None in shares) == skips  # ... and skipped, where its check found no gain there
    engine.close()
    warm = settings.model_copy(update={"warm_on_open": True})  # as the service opens an index
    engine = vitrina.open(tmp_path / "index", settings=warm)
    graph = engine._reranker_graph("v0001", TINY.max_seq_length)  # the one the pipeline made: no search yet
    assert graph._warmed and engine.settings.tuning.rerank_threads in graph._sessions
    engine.use_reranker(None)
    assert all(p.name != "cross_encoder" for p in engine.search("cordless drill").phases)
    engine.close()


def test_a_cross_encoder_learns_in_between_judgments_only_when_asked(tmp_path):
    pytest.importorskip("sentence_transformers", reason="the `torch` extra is not installed")
    from vitrina.learn.tuning.crossencoder import train_cross_encoder
    from vitrina.learn.tuning.train import default_base

    texts = {"drill": "DEWALT 20V MAX Cordless Drill", "bits": "Ryobi Drill Bit Set (70-Piece)",
             "tile": "Porcelain Floor Tile 12 in. x 12 in."}
    pairs = PairSet(pairs=[TrainingPair(query="cordless drill", product_id="drill", weight=2, negatives=["tile"],
                                        source="qrels")], unsure={"cordless drill": {"bits": 0.67}})
    for asked, in_between in ((True, 1), (False, 0)):
        settings = TuningSettings(rerank_in_between=asked, rerank_epochs=1, rerank_batch_size=4)
        report = train_cross_encoder(default_base(), pairs, texts.get, {}, tmp_path / str(asked), settings)
        assert (report.in_between, report.positives, report.examples) == (in_between, 1, 2 + in_between)
