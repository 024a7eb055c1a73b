"""Ranking in phases, as Vespa does: a cheap first phase scores every fused candidate with the profile's signals
(hard constraints re-checked on each), costly later phases re-order only the top, each within its time budget."""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from vitrina.index.protocol import field_values
from vitrina.rank.models import Explanation, RankedHit
from vitrina.rank.profiles import PhaseSpec, RankProfile
from vitrina.rank.signals import SIGNALS, Item, RankContext, Signal
from vitrina.retrieve.models import Candidate

BOOSTS = ("exact_id", "exact_title")  # exact_id is always 1.0: a typed SKU comes first


class ProfileError(ValueError):
    pass


class SignalRanker:
    """The first phase: the weighted sum of the profile's signals, plus boosts, with an explanation per hit."""

    def __init__(self, profile: RankProfile, signals: Mapping[str, Signal] = SIGNALS):
        unknown = set(profile.signals) - set(signals)
        if unknown:
            raise ProfileError(f"ranking profile {profile.name!r} names unknown signals {sorted(unknown)}; "
                               f"known: {', '.join(sorted(signals))}")
        unknown = set(profile.boosts) - set(BOOSTS)
        if unknown:
            raise ProfileError(f"ranking profile {profile.name!r} names unknown boosts {sorted(unknown)}")
        self.weights = dict(profile.signals)
        self.boosts = dict(profile.boosts)
        self.signals = {name: signals[name] for name in self.weights}

    def rank(self, context: RankContext, candidates: list[Candidate],
             products: dict[str, tuple[dict, np.ndarray | None]]) -> list[RankedHit]:
        items = []
        for c in candidates:
            if c.id not in products:
                continue
            product, vector = products[c.id]
            if context.hard.violation(partial(field_values, product)) is None:
                items.append(Item(c, product, vector))
        if not self.signals:  # an ablation profile: the fused order
            return [RankedHit(product=it.product, score=round(it.candidate.fused, 6),
                              explanation=Explanation(retrievers=it.candidate.ranks, fused=it.candidate.fused))
                    for it in items]
        scored = {name: signal.scores(context, items) for name, signal in self.signals.items()}
        phrase = " ".join(context.parsed.keywords)
        hits = []
        for i, it in enumerate(items):
            signals = {name: scored[name][i].score for name in self.signals}
            contributions = {k: round(self.weights[k] * v, 4) for k, v in signals.items()}
            boosts = {}
            title = (it.product.get("title") or "").lower()
            if it.candidate.exact:
                boosts["exact_id"] = 1.0
            elif "exact_title" in self.boosts and len(phrase) > 3 and phrase in title:
                boosts["exact_title"] = self.boosts["exact_title"]
            score = sum(contributions.values()) + sum(boosts.values())
            # Metadata (type) reasons first: the type is what a shopper checks first.
            order = [n for n in ("metadata", *self.signals) if n in scored]
            # A soft attribute counts in two signals (a constraint and metadata) but is one reason.
            matches = list(dict.fromkeys(m for n in dict.fromkeys(order) for m in scored[n][i].matches))
            penalties = list(dict.fromkeys(p for n in dict.fromkeys(order) for p in scored[n][i].penalties))
            hits.append(RankedHit(product=it.product, score=round(score, 5), explanation=Explanation(
                signals={k: round(v, 4) for k, v in signals.items()}, weights=self.weights,
                contributions=contributions, boosts=boosts, matches=matches, penalties=penalties,
                retrievers=dict(it.candidate.ranks), fused=round(it.candidate.fused, 6))))
        hits.sort(key=lambda h: (-h.score, h.product.get("id", "")))
        return hits


class RankPhase(Protocol):
    """A later phase: re-orders (and may re-score) the top hits. It should return by `deadline`
    (a time.perf_counter() value); one that throws leaves the order as it was."""

    name: str

    def rerank(self, context: RankContext, hits: list[RankedHit], deadline: float) -> list[RankedHit]: ...


@runtime_checkable
class SelectivePhase(Protocol):
    """A phase that says per search what share of its budget it needs: 0 skips it (with why), 2 doubles it."""

    def budget_share(self, hits: list[RankedHit]) -> tuple[float, str]: ...


class PhaseReport(BaseModel):
    name: str
    status: str  # ran | late | skipped: <why> | failed: <error>
    ms: float = 0.0
    depth: int = 0
    budget_ms: float | None = None  # the time it was given (None: it did not run)


def run_phases(context: RankContext, hits: list[RankedHit], specs: list[PhaseSpec],
               phases: Mapping[str, RankPhase]) -> tuple[list[RankedHit], list[PhaseReport]]:
    """Each phase over the top `depth` hits, within its own budget; the rest keep their order below."""
    reports = []
    for spec in specs:
        phase = phases.get(spec.name)
        if phase is None:
            reports.append(PhaseReport(name=spec.name, status="skipped: not available"))
            continue
        if len(hits) < 2:
            reports.append(PhaseReport(name=spec.name, status="skipped: nothing to re-order"))
            continue
        started = time.perf_counter()
        top, rest = hits[:spec.depth], hits[spec.depth:]
        budget_ms = spec.budget_ms
        try:
            share, why = phase.budget_share(top) if isinstance(phase, SelectivePhase) else (1.0, "")
            if share <= 0:
                reports.append(PhaseReport(name=spec.name, status=f"skipped: {why}", ms=_ms(started), depth=len(top)))
                continue
            budget_ms *= share
            reordered = phase.rerank(context, top, started + budget_ms / 1000)
        except Exception as exc:  # a failing phase must not fail the search
            reports.append(PhaseReport(name=spec.name, status=f"failed: {type(exc).__name__}: {exc}",
                                       ms=_ms(started), depth=len(top), budget_ms=budget_ms))
            continue
        kept = {id(h) for h in top}
        if len(reordered) != len(top) or any(id(h) not in kept for h in reordered):
            reports.append(PhaseReport(name=spec.name, status="failed: returned other hits than it was given",
                                       ms=_ms(started), depth=len(top), budget_ms=budget_ms))
            continue
        took = _ms(started)
        hits = reordered + rest
        reports.append(PhaseReport(name=spec.name, status="ran" if took <= budget_ms else "late", ms=took,
                                   depth=len(top), budget_ms=budget_ms))
    return hits, reports


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
