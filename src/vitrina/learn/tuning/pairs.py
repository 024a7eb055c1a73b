"""Training pairs for the encoder: (query, product) positives weighted by what they are worth, with hard negatives.

From graded judgments (a qrels file, the cold start): products graded at least `min_grade` are positives, weighted
by grade; those graded at most `max_negative_grade` for the same query are its hard negatives (a judge looked and
said no).

From the search log (learn/window.py's view of it): a product is a positive of a query when something followed
one of its searches (a click, a cart, a purchase); one pair per query and product, weighted by what it earned over
all of them under the tenant's objective (objective.py: purchase > cart > click, or by revenue or margin). Its hard
negatives are the products shown above it and skipped (position-debiased: only above a click, where the shopper's
eye passed) that no search of that query ever chose. Clicks are chancy: a product skipped once is often chosen
the next time, and taken as a negative it teaches the model to push apart what shoppers want alike (simulated
fashion shoppers: 87% of the skipped products were chosen in another search of the same query).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from vitrina.evaluate.datasets import load_qrels
from vitrina.learn.objective import Objective

if TYPE_CHECKING:  # the event window reads the store (sqlalchemy), which a training machine need not have
    from vitrina.learn.window import Window

SOURCES = ("click", "add_to_cart", "purchase")  # a logged pair's source: the strongest thing that followed


class TrainingPair(BaseModel):
    query: str
    product_id: str
    weight: float = Field(gt=0)  # how much this positive counts (repeats in training, see finetune.py)
    negatives: list[str] = Field(default_factory=list)  # product ids seen with it and judged or passed over
    source: str  # "qrels", "click", "add_to_cart", "purchase"


class PairSet(BaseModel):
    pairs: list[TrainingPair] = Field(default_factory=list)
    sources: dict[str, int] = Field(default_factory=dict)  # source -> pairs
    queries: int = 0
    left_out: dict[str, int] = Field(default_factory=dict)  # reason -> count
    # query -> product -> weight (below a positive's 1) of each product a judge graded in between: not an
    # encoder's positive nor anyone's negative (never mined); the cross-encoder learns it at its grade
    unsure: dict[str, dict[str, float]] = Field(default_factory=dict)

    def summary(self) -> str:
        parts = ", ".join(f"{n} from {s}" for s, n in sorted(self.sources.items())) or "none"
        return f"{len(self.pairs)} pairs over {self.queries} queries ({parts})"

    def examined(self) -> dict[str, list[str]]:
        """query -> the products its shoppers are known to have looked at (chosen, or passed over above a choice),
        for queries whose pairs come from the log; a judgments file's queries have none."""
        out: dict[str, set[str]] = {}
        for pair in self.pairs:
            if pair.source in SOURCES:
                out.setdefault(pair.query, set()).update((pair.product_id, *pair.negatives))
        return {query: sorted(products) for query, products in out.items()}

    def of_queries(self, queries: set[str]) -> PairSet:
        """The pairs (and in-between judgments) of these queries only."""
        return PairSet(pairs=[p for p in self.pairs if p.query in queries], queries=len(queries),
                       unsure={q: graded for q, graded in self.unsure.items() if q in queries})

    def with_negatives(self, extra: dict[str, list[str]]) -> PairSet:
        """These pairs, each also carrying its query's `extra` negatives (mined ones, mining.py)."""
        pairs = [p.model_copy(update={"negatives": list(dict.fromkeys([*p.negatives, *extra.get(p.query, ())]))})
                 for p in self.pairs]
        return self.model_copy(update={"pairs": pairs})

    def gains(self) -> dict[str, dict[str, float]]:
        """query -> product -> its largest pair weight: the graded truth a held-out check scores against."""
        out: dict[str, dict[str, float]] = {}
        for pair in self.pairs:
            graded = out.setdefault(pair.query, {})
            graded[pair.product_id] = max(graded.get(pair.product_id, 0.0), pair.weight)
        return out


def split_queries(query_ids: list[str], holdout: float, seed: int) -> tuple[list[str], list[str]]:
    """A seeded split of query ids into (train, held out): the same ids and seed give the same split anywhere."""
    ordered = sorted(query_ids)
    random.Random(seed).shuffle(ordered)
    cut = len(ordered) - round(len(ordered) * holdout)
    return sorted(ordered[:cut]), sorted(ordered[cut:])


def pairs_from_qrels(path: Path, query_ids: set[str] | None = None, min_grade: float = 2.0,
                     max_negative_grade: float = 1.34) -> PairSet:
    """Pairs from a qrels file (dev-qrels.tsv format), restricted to `query_ids` when given. Products graded
    between the two bounds are neither: somewhat relevant is not a negative."""
    texts, judged = load_qrels(path)
    out = PairSet()
    left: Counter[str] = Counter()
    for qid in sorted(judged):
        if query_ids is not None and qid not in query_ids:
            continue
        grades = judged[qid]
        negatives = sorted(pid for pid, g in grades.items() if g <= max_negative_grade)
        positives = sorted((pid, g) for pid, g in grades.items() if g >= min_grade)
        if not positives:
            left["no product graded high enough"] += 1
            continue
        out.queries += 1
        for pid, grade in sorted(grades.items()):  # on the positives' scale, so below 1
            if max_negative_grade < grade < min_grade:
                out.unsure.setdefault(texts[qid], {})[pid] = grade - min_grade + 1.0
        for pid, grade in positives:  # the lowest positive grade counts once, each grade above it once more
            out.pairs.append(TrainingPair(query=texts[qid], product_id=pid, weight=grade - min_grade + 1.0,
                                          negatives=negatives, source="qrels"))
    out.sources = {"qrels": len(out.pairs)} if out.pairs else {}
    out.left_out = dict(left)
    return out


def pairs_from_window(window: Window, objective: Objective) -> PairSet:
    """Pairs from a tenant's logged searches: per query and product, what followed its searches, weighted by the
    objective's gain summed over them and scaled so that the mean pair counts once."""
    worth = window.worth(objective)
    gains: dict[tuple[str, str], float] = defaultdict(float)
    best: dict[tuple[str, str], int] = {}  # the strongest outcome seen: 0 click, 1 cart, 2 purchase
    skipped: dict[tuple[str, str], set[str]] = defaultdict(set)
    chosen: dict[str, set[str]] = defaultdict(set)
    left: Counter[str] = Counter()
    for search in window.searches:
        if not search.key:
            left["empty query"] += 1
            continue
        position = {s.product_id: s.position for s in search.shown}
        for pid, outcome in search.outcomes.items():
            gain = search.gain(pid, objective, worth)
            if gain <= 0:
                left["no gain under the objective"] += 1
                continue
            key = (search.key, pid)
            gains[key] += gain
            best[key] = max(best.get(key, 0), 2 if outcome.purchases else 1 if outcome.carted else 0)
            skipped[key].update(s.product_id for s in search.shown
                                if s.position < position[pid] and s.product_id not in search.outcomes)
            chosen[search.key].add(pid)
    out = PairSet(queries=len(chosen), left_out=dict(left))
    if gains:
        mean = sum(gains.values()) / len(gains)
        out.pairs = [TrainingPair(query=query, product_id=pid, weight=gain / mean, source=SOURCES[best[(query, pid)]],
                                  negatives=sorted(skipped[(query, pid)] - chosen[query]))
                     for (query, pid), gain in sorted(gains.items())]
        out.sources = dict(Counter(p.source for p in out.pairs))
    return out
