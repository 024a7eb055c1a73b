"""Train an index's learned order (rank/learned_order.py) from its training pairs: each training query's top hits
as the first phase ranks them, labelled by the pairs' grades (unnamed hits 0), fitted by LambdaMART on nDCG;
checked on the held-out queries against the first phase's own order, served only if better."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from vitrina.config import TuningSettings
from vitrina.evaluate.metrics import ndcg_at_k
from vitrina.learn.tuning.pairs import PairSet
from vitrina.learn.tuning.registry import ModelManifest
from vitrina.learn.tuning.searches import searched, top_ids
from vitrina.learn.tuning.validation import Validation
from vitrina.rank.learned_order import FEATURES, LearnedOrderModel, OrderWords, order_features
from vitrina.rank.models import RankedHit

if TYPE_CHECKING:
    from vitrina.engine import Engine

LABELS = 6  # grades become labels 0..6, a query's best pairs at the top (a Home Depot judgment of 3 is 6)
TOP_SHARE = 0.95  # ... scaled so that the pairs' 95th percentile grade is the top label: a few outliers (one
# big order under a revenue objective) must not squeeze every other pair into label 0
MODEL_FILE = "model.txt"


class OrderReport(BaseModel):
    queries: int  # training queries with a labelled hit among their top hits
    rows: int
    seconds: float = 0.0
    validation: Validation | None = None
    published: bool = False
    version: str | None = None
    reason: str = ""


def graded(pairs: PairSet) -> dict[str, dict[str, float]]:
    """query -> product -> grade: the positives' weights and the in-between judgments'."""
    out = {query: dict(products) for query, products in pairs.unsure.items()}
    for query, products in pairs.gains().items():
        out.setdefault(query, {}).update(products)
    return out


def label_scale(grades: dict[str, dict[str, float]]) -> float:
    values = [g for products in grades.values() for g in products.values() if g > 0]
    return LABELS / float(np.quantile(values, TOP_SHARE)) if values else 1.0


def _labels(ids: list[str], grades: dict[str, float], scale: float) -> np.ndarray:
    return np.clip(np.rint(np.array([grades.get(pid, 0.0) for pid in ids]) * scale), 0, LABELS).astype(int)


def fit_order(rows: list[tuple[np.ndarray, np.ndarray]], settings: TuningSettings, path: Path) -> None:
    """LambdaMART over (features, labels) per query, written to `path` in LightGBM's text format."""
    import lightgbm

    model = lightgbm.LGBMRanker(
        objective="lambdarank", n_estimators=settings.order_trees, num_leaves=settings.order_leaves,
        learning_rate=settings.order_learning_rate, min_child_samples=settings.order_min_rows_per_leaf,
        label_gain=list(range(LABELS + 1)), random_state=settings.seed, deterministic=True, force_row_wise=True,
        n_jobs=settings.training_cores, verbose=-1)
    model.fit(np.vstack([x for x, _ in rows]), np.concatenate([y for _, y in rows]), group=[len(y) for _, y in rows])
    model.booster_.save_model(str(path))


def ids_and_features(query: str, hits: list[RankedHit]) -> tuple[list[str], np.ndarray]:
    """A searched query's hits as the model reads them (made where the search ran: searches.py)."""
    return top_ids(query, hits), order_features(query, hits, OrderWords())


def check_order(engine: Engine, check: PairSet, model: LearnedOrderModel, depth: int, processes: int = 1) -> Validation:
    """nDCG@10 of the held-out queries' top `depth` as the first phase orders them and as the model does."""
    current, trained = [], []
    truths = sorted(check.gains().items())
    tops = searched(engine, "first_phase", [query for query, _ in truths], depth, ids_and_features, processes)
    for (_, truth), (ids, features) in zip(truths, tops, strict=True):
        current.append(ndcg_at_k(ids, truth, 10))
        scores = model.scores(features) if ids else np.zeros(0)
        trained.append(ndcg_at_k([ids[i] for i in np.argsort(-scores, kind="stable")], truth, 10))
    return Validation(queries=len(current), current=round(float(np.mean(current or [0])), 4),
                      trained=round(float(np.mean(trained or [0])), 4))


def _served(validation: Validation | None) -> str:
    if validation is None:
        return "served: no check"
    return f"served: nDCG@10 on held-out queries {validation.trained} vs {validation.current} in the first phase's order"


def train_order(engine: Engine, train: PairSet, check: PairSet, settings: TuningSettings, sources: dict[str, int],
                log: Callable[[str], None] = lambda _: None) -> OrderReport:
    """Fit on `train`'s queries, check on `check`'s, register and serve the version if it beat the first phase."""
    started = time.perf_counter()
    depth = settings.order_depth
    grades = graded(train)
    scale = label_scale(grades)
    log(f"learned order: the first phase's top {depth} for {len(grades)} training queries")
    rows = []
    queries = sorted(grades)
    tops = searched(engine, "first_phase", queries, depth, ids_and_features, settings.training_cores)
    for query, (ids, features) in zip(queries, tops, strict=True):
        labels = _labels(ids, grades[query], scale)
        if labels.any():  # a list with nothing to put first teaches LambdaMART nothing
            rows.append((features, labels))
    report = OrderReport(queries=len(rows), rows=sum(len(y) for _, y in rows))
    work = Path(tempfile.mkdtemp(prefix="order-", dir=engine.path))
    try:
        if not rows:
            report.reason = "not served: no training query has a graded product among its top hits"
            return report
        fit_order(rows, settings, work / MODEL_FILE)
        model = LearnedOrderModel(work / MODEL_FILE)
        if check.pairs:
            log(f"learned order: checking on {check.queries} held-out queries")
            report.validation = check_order(engine, check, model, depth, settings.training_cores)
            if report.validation.gain <= settings.min_improvement:
                report.reason = (f"not served: nDCG@10 on held-out queries {report.validation.trained} vs "
                                 f"{report.validation.current} in the first phase's order "
                                 f"(needs > +{settings.min_improvement})")
                return report
        manifest = engine.models.register(work, ModelManifest(
            version="", created="", base="lightgbm lambdarank", onnx_sha256="", kind="learned-order",
            model_file=MODEL_FILE, pairs=sources, queries=len(rows),
            train_seconds=round(time.perf_counter() - started, 1),
            validation=report.validation.figures() if report.validation else {},
            notes=[f"{len(rows)} queries, {report.rows} hits, {len(FEATURES)} features, {settings.order_trees} trees "
                   f"of {settings.order_leaves} leaves; labels 0-{LABELS}, grade x {scale:.3g}"]))
        engine.use_order(manifest.version)
        report.version, report.published, report.reason = manifest.version, True, _served(report.validation)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)
        report.seconds = round(time.perf_counter() - started, 1)
