"""Choosing the weights: a propensity-weighted pairwise fit, and an offline check before anything is served.

Pairs follow Joachims et al. (2017), unbiased learning to rank: within one logged search, each product that
earned a gain is preferred to each one shown that earned less, weighted by the gain difference over the
winner's examination propensity. Weights minimise the weighted logistic loss of
    (base_i - base_j) + w . (lift_i - lift_j)
with w within features.BOUNDS (more engagement never ranks a product lower) and a pull toward the weights served
now, so each update moves the model a step, not a leap. Features come from evidence older than the pairs, so a
click is never its own evidence.

The base is each impression's logged rank before learning (Impression.first_rank), the order serving starts from
too, so "static" in the check is the static ranking, not whatever order the logging model served.

The check: on held-out logged searches, each candidate re-orders what was shown, and earns the inverse-propensity
weighted DCG of the gains: sum over shown products of gain / theta(logged position) / log2(1 + new rank). A
product the served model pulled up from deep in the static order counts for the candidates that pull it up too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

from vitrina.learn.evidence import Evidence
from vitrina.learn.features import BOUNDS, FEATURES, feature_vector
from vitrina.learn.model import rank_base
from vitrina.learn.objective import Objective
from vitrina.learn.window import LoggedSearch, query_terms

PULL = 0.05  # strength of the pull toward the current weights


class Scored:
    """One held-out or training search: logged positions, lifts and gains of what it showed."""

    def __init__(self, positions: np.ndarray, first_ranks: np.ndarray, lifts: np.ndarray, gains: np.ndarray,
                 propensities: np.ndarray):
        self.base = rank_base(first_ranks.astype(np.float64))  # the static order, as serving starts from
        self.lifts, self.gains = lifts, gains
        self.inverse = 1.0 / propensities[np.minimum(positions, len(propensities)) - 1]


def scored_searches(logged: Sequence[LoggedSearch], evidence: Evidence, propensities: np.ndarray,
                    objective: Objective, worth: dict[str, float]) -> list[Scored]:
    out = []
    for search in logged:
        if not any(search.outcomes.values()):
            continue
        terms = query_terms(search.key)
        positions = np.array([s.position for s in search.shown])
        first_ranks = np.array([s.first_rank for s in search.shown])
        lifts = np.array([feature_vector(evidence, search.key, terms, s.product_id, s.signals)
                          for s in search.shown]).reshape(-1, len(FEATURES))
        gains = np.array([search.gain(s.product_id, objective, worth) for s in search.shown])
        if gains.max() > 0:
            out.append(Scored(positions, first_ranks, lifts, gains, propensities))
    return out


def fit_weights(train: Sequence[Scored], current: np.ndarray) -> tuple[np.ndarray, int]:
    """The fitted weights and how many pairs they came from."""
    base, diffs, weights = [], [], []
    for s in train:
        for i in np.flatnonzero(s.gains > 0):
            lower = np.flatnonzero(s.gains < s.gains[i])
            if len(lower):
                base.append(s.base[i] - s.base[lower])
                diffs.append(s.lifts[i] - s.lifts[lower])
                weights.append((s.gains[i] - s.gains[lower]) * s.inverse[i])
    if not base:
        return current.copy(), 0
    db, dx, omega = np.concatenate(base), np.concatenate(diffs), np.concatenate(weights)
    omega = omega / omega.sum()

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        margin = db + dx @ w
        value = float(omega @ np.logaddexp(0.0, -margin)) + PULL * float((w - current) @ (w - current))
        grad = -(dx.T @ (omega / (1.0 + np.exp(margin)))) + 2 * PULL * (w - current)
        return value, grad

    result = minimize(loss, current.copy(), jac=True, method="L-BFGS-B", bounds=BOUNDS)
    return np.asarray(result.x), len(db)


def offline_value(searches: Sequence[Scored], weights: np.ndarray) -> float:
    """Mean inverse-propensity weighted DCG of the gains, the shown products re-ordered by these weights."""
    if not searches:
        return 0.0
    total = 0.0
    for s in searches:
        order = np.argsort(-(s.base + s.lifts @ weights), kind="stable")
        ranks = np.empty(len(order))
        ranks[order] = np.arange(1, len(order) + 1)
        total += float(np.sum(s.gains * s.inverse / np.log2(1.0 + ranks)))
    return total / len(searches)
