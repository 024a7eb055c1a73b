"""Per-variant results of an experiment from the per-search events, with 95% confidence intervals and a test
of each variant against the control (the first): a two-proportion z-test for CTR and conversion, Welch's t-test
for revenue and margin per search (both from scipy). Significant means p < 0.05."""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel
from scipy import stats
from sqlalchemy import Engine, and_, select

from vitrina.events.analytics import search_outcome_columns
from vitrina.events.schema import assignments, events
from vitrina.experiments.interleave import votes
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


class InterleavingResult(BaseModel):
    searches: int  # interleaved searches
    wins: dict[str, int]  # variant -> searches whose clicks went more to it
    ties: int  # clicked searches with as many clicks for each (searches without clicks are not counted)
    p_value: float  # two-sided binomial test of the wins against an even split
    significant: bool


class ExperimentReport(BaseModel):
    experiment: Experiment
    variants: list[VariantResult] = []
    interleaving: InterleavingResult | None = None


def _outcomes(db: Engine, tenant: str, name: str) -> dict[str, np.ndarray]:
    """variant -> rows of (clicked, bought, revenue, margin), one per search."""
    joined = assignments.outerjoin(events, and_(events.c.search_id == assignments.c.search_id,
                                                events.c.tenant == tenant, events.c.known_search))
    outcome = {c.name: c for c in search_outcome_columns()}
    stmt = (select(assignments.c.variant, *(outcome[n] for n in ("clicked", "bought", "revenue", "margin")))
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


def interleaving_result(db: Engine, tenant: str, experiment: Experiment) -> InterleavingResult:
    mine = and_(assignments.c.tenant == tenant, assignments.c.experiment == experiment.name)
    with db.connect() as conn:
        teams = {sid: t or {} for sid, t in conn.execute(select(assignments.c.search_id, assignments.c.teams)
                                                         .where(mine))}
        clicks = conn.execute(select(events.c.search_id, events.c.product_id)
                              .select_from(events.join(assignments, assignments.c.search_id == events.c.search_id))
                              .where(mine, events.c.tenant == tenant, events.c.type == "click",
                                     events.c.known_search).order_by(events.c.id)).all()
    clicked: dict[str, list[str]] = {}
    for sid, pid in clicks:
        clicked.setdefault(sid, []).append(pid)
    names = [v.name for v in experiment.variants]
    wins, ties = dict.fromkeys(names, 0), 0
    for sid, products in clicked.items():
        counted = votes(teams.get(sid, {}), products)
        a, b = counted.get(names[0], 0), counted.get(names[1], 0)
        if a == b:
            ties += a > 0
        else:
            wins[names[0] if a > b else names[1]] += 1
    decided = wins[names[0]] + wins[names[1]]
    p = float(stats.binomtest(wins[names[1]], decided, 0.5).pvalue) if decided else 1.0
    return InterleavingResult(searches=len(teams), wins=wins, ties=ties, p_value=round(p, 6), significant=p < ALPHA)


def experiment_report(db: Engine, tenant: str, experiment: Experiment) -> ExperimentReport:
    if experiment.kind == "interleave":
        return ExperimentReport(experiment=experiment, interleaving=interleaving_result(db, tenant, experiment))
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
