"""Per-variant results of an experiment from the per-search events, with 95% confidence intervals and a test
of each variant against the control (the first): a two-proportion z-test for CTR and conversion, Welch's t-test
for revenue and margin per search (both from scipy). Significant means p < 0.05."""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel
from scipy import stats
from sqlalchemy import Engine, and_, case, func, select

from vitrina.events.schema import assignments, events
from vitrina.experiments.models import Experiment

ALPHA = 0.05
RATES = ("ctr", "conversion")
MEANS = ("revenue_per_search", "margin_per_search")


class Estimate(BaseModel):
    value: float
    low: float
    high: float


class Comparison(BaseModel):
    difference: float  # variant - control
    p_value: float
    significant: bool


class VariantResult(BaseModel):
    variant: str
    profile: str
    searches: int
    metrics: dict[str, Estimate]
    against_control: dict[str, Comparison] = {}


class ExperimentReport(BaseModel):
    experiment: Experiment
    variants: list[VariantResult]


def _outcomes(db: Engine, tenant: str, name: str) -> dict[str, np.ndarray]:
    """variant -> rows of (clicked, bought, revenue, margin), one per search."""
    joined = assignments.outerjoin(events, and_(events.c.search_id == assignments.c.search_id,
                                                events.c.tenant == tenant, events.c.known_search))
    stmt = (select(assignments.c.variant,
                   func.max(case((events.c.type == "click", 1), else_=0)),
                   func.max(case((events.c.type == "purchase", 1), else_=0)),
                   func.coalesce(func.sum(case((events.c.type == "purchase", events.c.revenue), else_=0.0)), 0.0),
                   func.coalesce(func.sum(case((events.c.type == "purchase", events.c.margin), else_=0.0)), 0.0))
            .select_from(joined).where(assignments.c.tenant == tenant, assignments.c.experiment == name)
            .group_by(assignments.c.search_id, assignments.c.variant))
    rows: dict[str, list] = {}
    with db.connect() as conn:
        for variant, clicked, bought, revenue, margin in conn.execute(stmt):
            rows.setdefault(variant, []).append((clicked or 0, bought or 0, float(revenue or 0), float(margin or 0)))
    return {v: np.array(r, dtype=np.float64) for v, r in rows.items()}


def _estimate(values: np.ndarray) -> Estimate:
    if len(values) == 0:
        return Estimate(value=0.0, low=0.0, high=0.0)
    mean = float(values.mean())
    half = 1.96 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return Estimate(value=round(mean, 6), low=round(mean - half, 6), high=round(mean + half, 6))


def _proportions(a: np.ndarray, b: np.ndarray) -> float:
    n1, n2 = len(a), len(b)
    pooled = (a.sum() + b.sum()) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 1.0 if spread == 0 else float(2 * stats.norm.sf(abs(b.mean() - a.mean()) / spread))


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 and b.std() == 0:
        return 1.0 if a.mean() == b.mean() else 0.0
    return float(stats.ttest_ind(b, a, equal_var=False).pvalue)


def experiment_report(db: Engine, tenant: str, experiment: Experiment) -> ExperimentReport:
    outcomes = _outcomes(db, tenant, experiment.name)
    empty = np.zeros((0, 4))
    columns = dict(zip((*RATES, *MEANS), range(4), strict=True))
    control = outcomes.get(experiment.variants[0].name, empty)
    results = []
    for variant in experiment.variants:
        rows = outcomes.get(variant.name, empty)
        result = VariantResult(variant=variant.name, profile=variant.profile, searches=len(rows),
                               metrics={m: _estimate(rows[:, i]) for m, i in columns.items()})
        if variant is not experiment.variants[0] and len(rows) > 1 and len(control) > 1:
            for metric, i in columns.items():
                test = _proportions if metric in RATES else _welch
                p = test(control[:, i], rows[:, i])
                result.against_control[metric] = Comparison(
                    difference=round(float(rows[:, i].mean() - control[:, i].mean()), 6), p_value=round(p, 6),
                    significant=p < ALPHA)
        results.append(result)
    return ExperimentReport(experiment=experiment, variants=results)
