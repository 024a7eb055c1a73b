"""Debiased evidence: what showing a product earned, per examination, per query, per query word and overall.

For each impression the examination is the position's propensity theta (not 1): a product shown at position 8
that nobody clicked was probably not looked at, one shown first and skipped probably was. The gain is the
objective's value of what followed. Evidence is a lift over the window's mean gain per examination mu, with a
prior of `strength` examinations at mu, on a log scale:

    lift = log(((gain + strength * mu) / (examined + strength)) / mu), clipped to [-LIFT_CAP, LIFT_CAP]

so a pair seen once moves little, a pair shown often and never chosen sinks, and no evidence is exactly 0.
Per query-word and per product evidence leave the query's own out: they say what *other* searches showed,
which is all a query with no history of its own has, so a weight fitted on searched queries means the same
for new ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from vitrina.learn.objective import Objective
from vitrina.learn.window import LoggedSearch, query_terms

LIFT_CAP = 2.0
# A stat: [gain, examined, clicks, purchases]
Stat = list[float]


def _add(table: dict, key, gain: float, examined: float, clicked: bool, purchases: int) -> None:
    stat = table.get(key)
    if stat is None:
        table[key] = [gain, examined, float(clicked), float(purchases)]
    else:
        stat[0] += gain
        stat[1] += examined
        stat[2] += clicked
        stat[3] += purchases


class Evidence:
    def __init__(self, strength: float = 5.0, mean: float = 0.0, queries: dict | None = None,
                 words: dict | None = None, products: dict | None = None):
        self.strength = strength
        self.mean = mean  # gain per examination over the window
        self.queries: dict[tuple[str, str], Stat] = queries or {}
        self.words: dict[tuple[str, str], Stat] = words or {}
        self.products: dict[str, Stat] = products or {}
        self.keys = {key for key, _ in self.queries}  # queries with evidence of their own

    @classmethod
    def build(cls, logged: Iterable[LoggedSearch], propensities: np.ndarray, objective: Objective,
              worth: dict[str, float], strength: float = 5.0) -> Evidence:
        queries: dict[tuple[str, str], Stat] = {}
        words: dict[tuple[str, str], Stat] = {}
        products: dict[str, Stat] = {}
        total_gain = total_examined = 0.0
        deepest = len(propensities)
        for search in logged:
            terms = query_terms(search.key)
            for position, pid, _, _ in search.shown:
                theta = float(propensities[min(position, deepest) - 1])
                gain = search.gain(pid, objective, worth)
                o = search.outcomes.get(pid)
                clicked, bought = (o.clicked, o.purchases) if o else (False, 0)
                _add(queries, (search.key, pid), gain, theta, clicked, bought)
                for term in terms:
                    _add(words, (term, pid), gain, theta, clicked, bought)
                _add(products, pid, gain, theta, clicked, bought)
                total_gain += gain
                total_examined += theta
        mean = total_gain / total_examined if total_examined else 0.0
        return cls(strength, mean, queries, words, products)

    def lift(self, stat: Stat | None) -> float:
        if stat is None or self.mean <= 0:
            return 0.0
        rate = (stat[0] + self.strength * self.mean) / (stat[1] + self.strength)
        return max(-LIFT_CAP, min(LIFT_CAP, math.log(rate / self.mean)))

    def features(self, key: str, terms: tuple[str, ...], pid: str) -> list[float]:
        own = self.queries.get((key, pid))
        words = [self.lift(_without(self.words.get((t, pid)), own)) for t in terms]
        return [self.lift(own), sum(words) / len(words) if words else 0.0,
                self.lift(_without(self.products.get(pid), own))]

    def reason(self, key: str, terms: tuple[str, ...], pid: str, contributions: np.ndarray) -> str:
        """The part of the evidence that moved this product most, in words a merchandiser reads."""
        strongest = int(np.argmax(np.abs(contributions)))
        own = self.queries.get((key, pid))
        if strongest == 0:
            return _counts(own or [0, 0, 0, 0], "for this query")
        if strongest == 1:
            others = {t: _without(self.words.get((t, pid)), own) for t in terms}
            known = {t: s for t, s in others.items() if s is not None}
            if known:
                term = max(known, key=lambda t: known[t][1])
                return _counts(known[term], f"on other searches with '{term}'")
        return _counts(_without(self.products.get(pid), own) or [0, 0, 0, 0], "across other searches")

    # --- storage: plain lists, so the state is JSON ---
    def dump(self) -> dict:
        return {"strength": self.strength, "mean": self.mean,
                "queries": [[k, p, *s] for (k, p), s in self.queries.items()],
                "words": [[k, p, *s] for (k, p), s in self.words.items()],
                "products": [[p, *s] for p, s in self.products.items()]}

    @classmethod
    def load(cls, data: dict) -> Evidence:
        return cls(float(data["strength"]), float(data["mean"]),
                   {(r[0], r[1]): [float(x) for x in r[2:6]] for r in data["queries"]},
                   {(r[0], r[1]): [float(x) for x in r[2:6]] for r in data["words"]},
                   {r[0]: [float(x) for x in r[1:5]] for r in data["products"]})


def _without(stat: Stat | None, own: Stat | None) -> Stat | None:
    """A word's or product's evidence less this query's own."""
    if stat is None or own is None:
        return stat
    rest = [a - b for a, b in zip(stat, own, strict=True)]
    return rest if rest[1] > 1e-9 else None


def _counts(stat: Stat, where: str) -> str:
    clicks, purchases = int(stat[2]), int(stat[3])
    if not clicks and not purchases:
        return f"shown {stat[1]:.0f} times (debiased) {where} without a click"
    parts = ([f"{purchases} purchase{'s' * (purchases != 1)}"] if purchases else []) + [
        f"{clicks} click{'s' * (clicks != 1)}"]
    return f"{', '.join(parts)} {where}"
