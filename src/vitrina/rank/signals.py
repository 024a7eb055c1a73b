"""Ranking signals, registered by name: a profile weighs them (rank/profiles.py), the ranker sums weight x score.

A signal scores a whole candidate set at once (some normalise over it) and says what matched and what was
penalised. A new signal is one class here and one entry in SIGNALS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np

from vitrina.catalog.sizes import is_size
from vitrina.index.protocol import FilterSpec, field_values
from vitrina.personalize.profile import ShopperProfile
from vitrina.retrieve.models import Candidate
from vitrina.understand.models import LLM_SOURCE, ParsedQuery

# Vocabularies whose terms said together are alternatives, as a product has one of them: "nike or adidas"
ALTERNATIVES = frozenset({"brands"})
# A missed positive constraint costs its vocabulary's penalty (rules/<domain>/<vocabulary>.json).
MISSED_SIZE = 0.20
OVER_BUDGET = 0.30
UNDER_MINIMUM = 0.10
# A word the shopper ruled out that no vocabulary knows ("not digital") can only be read in the title: more than any
# soft miss (the shopper said it outright), not a filter (a title's word is weaker evidence than an attribute).
SAYS_EXCLUDED = 0.5
# A product whose field is empty where the shopper ruled a value of it out costs half a missed ask: it may be it.
UNKNOWN_UNDER_NEGATION = 0.5
TITLE_NEGATIONS = {"no", "non", "not", "anti", "without"}
# What the LLM suggests lifts a product, never sinks the others (understand/llm.py): its first type lifts type fit
# from an even 0.5 by this much when the query names no type, counts as related under the rules' types, and each
# of its attributes a product has adds to attribute fit.
LLM_TYPE_BONUS = 0.3
LLM_TYPE_RELATED = 0.5
LLM_ATTRIBUTE_BONUS = 0.15
STOCK = {"in_stock": 1.0, "unknown": 1.0, "preorder": 0.5, "out_of_stock": 0.0}

WORD = re.compile(r"[^\W_]+")  # a word of a title or query: letters and digits

# Constraint fields (payload names) -> the product record's fields, where they differ.
FIELD_OF = {"style": "style_tags", "type": "product_type"}


@dataclass
class RankContext:
    """What every ranking phase knows about the search."""

    parsed: ParsedQuery
    query_vector: np.ndarray | None = None
    hard: FilterSpec = field(default_factory=FilterSpec)  # re-checked on every hit
    shopper: ShopperProfile | None = None  # the signed-in shopper's profile (personalize/); None: anonymous
    cosines: dict[str, float] = field(default_factory=dict)  # the index's cosine of candidates no vector list scored


class Item(NamedTuple):
    candidate: Candidate
    product: dict
    vector: np.ndarray | None


class SignalScore(NamedTuple):
    score: float  # in [0, 1]
    matches: list[str] = []
    penalties: list[str] = []


class Signal(Protocol):
    name: str

    def scores(self, context: RankContext, items: list[Item]) -> list[SignalScore]: ...


def product_values(product: dict, name: str) -> list[str]:
    value = product.get(FIELD_OF.get(name, name))
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() for v in values]


def _unit(values: list[float]) -> list[float]:
    """Min-max to [0, 1] over the candidate set, so signals of different scales can be weighted."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    span = hi - lo
    return [(v - lo) / span if span > 1e-9 else 1.0 for v in values]


class Semantic:
    name = "semantic"

    def scores(self, context: RankContext, items: list[Item]) -> list[SignalScore]:
        return [SignalScore(v) for v in _unit([_cosine(context, it) for it in items])]


def _cosine(context: RankContext, it: Item) -> float:
    """From the vector list that found it, else as the index scored it, else from its vector (0 without one)."""
    if it.candidate.cosine is not None:
        return it.candidate.cosine
    if it.candidate.id in context.cosines:
        return context.cosines[it.candidate.id]
    q = context.query_vector
    return float(it.vector @ q) if it.vector is not None and q is not None else 0.0


class Lexical:
    name = "lexical"

    def scores(self, context: RankContext, items: list[Item]) -> list[SignalScore]:
        raw = [max(it.candidate.scores.get("bm25", 0.0), it.candidate.scores.get("type_bm25", 0.0)) for it in items]
        top = max(raw, default=0.0)
        return [SignalScore(v / top if top > 0 else 0.0) for v in raw]


class Constraints:
    """Fit to the asked-for attributes, size and budget: 1 minus a penalty per miss."""

    name = "constraint"

    def scores(self, context: RankContext, items: list[Item]) -> list[SignalScore]:
        return [self.one(it.product, context.parsed) for it in items]

    @staticmethod
    def one(product: dict, parsed: ParsedQuery) -> SignalScore:
        score, matches, penalties = 1.0, [], []
        met = {c.vocabulary for c in parsed.constraints if c.vocabulary in ALTERNATIVES and not c.negated
               and not c.hard and set(c.values) & set(product_values(product, c.field))}
        for c in parsed.constraints:
            if c.negated or c.hard:
                continue
            have = product_values(product, c.field)
            allowed = set(c.values)
            if c.vocabulary in met and not allowed & set(have):
                continue  # "nike or adidas": an Adidas shoe misses nothing
            if c.vocabulary == "colors":
                if have and have[0] in allowed:
                    matches.append(f"colour: {have[0]}")
                    continue
                if any(v in allowed for v in have[1:]):
                    score -= c.penalty / 2
                    penalties.append(f"{c.term} is only a secondary colour")
                    continue
            elif any(v in allowed for v in have):
                matches.append(f"{c.vocabulary.rstrip('s')}: {c.term}")
                continue
            near = bool(have) and have[0] in c.near  # the first value: a colour's main one
            # what a word merely suggests ("haldi": yellow) misses by half; what the kind named is, in full
            penalty = c.penalty * (0.5 if c.implied and not c.defining else 1.0) * (0.5 if near else 1.0)
            if penalty:
                score -= penalty
                penalties.append(f"{'near' if near else 'not'} {c.term}" + (
                    f" ({', '.join(have[:2])})" if have else " (unknown)"))
        said = WORD.findall(str(product.get("title") or "").lower())
        for word in parsed.excluded:
            if _says(said, word):
                score -= SAYS_EXCLUDED
                penalties.append(f"says {word!r}, which you ruled out")
        for c in parsed.negated():
            # The filter ruled out what the field says; where the feed left the field empty, the title speaks
            # ("no stripes": "Men Striped Shirt" with no pattern given), and where it is silent too the product
            # may still be what was ruled out: it is less sure than one whose field says otherwise.
            if not c.values or product_values(product, c.field):
                continue
            if any(_says_phrase(said, v) for v in c.values):
                score -= SAYS_EXCLUDED
                penalties.append(f"says {c.term!r}, which you ruled out")
            else:
                score -= c.penalty * UNKNOWN_UNDER_NEGATION
                penalties.append(f"may be {c.term} ({c.field} unknown)")
        if parsed.sizes:
            score -= Constraints._size(product, parsed.sizes, matches, penalties)
        price = product.get("price")
        rng = parsed.price
        if rng and price is not None:
            if rng.catalog_max is not None and price > rng.catalog_max:
                score -= OVER_BUDGET
                penalties.append(f"above budget ({price:g} > {rng.catalog_max:g})")
            elif rng.catalog_min is not None and price < rng.catalog_min:
                score -= UNDER_MINIMUM
                penalties.append(f"below minimum price ({price:g} < {rng.catalog_min:g})")
            elif rng.catalog_max is not None or rng.catalog_min is not None:
                matches.append("within budget")
        return SignalScore(max(0.0, score), matches, penalties)

    @staticmethod
    def _size(product: dict, sizes: list[str], matches: list[str], penalties: list[str]) -> float:
        offered = field_values(product, "sizes")
        if not offered:
            return 0.0  # the feed says nothing about sizes
        asked = ", ".join(sizes)
        if any(is_size(sizes, label) for label in field_values(product, "available_sizes")):
            matches.append(f"size {asked} available")
            return 0.0
        if any(is_size(sizes, label) for label in offered):
            penalties.append(f"size {asked} sold out")
            return MISSED_SIZE / 2
        penalties.append(f"not made in size {asked}")
        return MISSED_SIZE


def _says_phrase(words: list[str], phrase: str) -> bool:
    """Whether a title's words say a phrase of one or more words (its last word may be plural)."""
    parts = WORD.findall(phrase)
    if len(parts) == 1:
        return _says(words, parts[0])
    n = len(parts)
    return any(words[k:k + n - 1] == parts[:-1] and words[k + n - 1] in (parts[-1], f"{parts[-1]}s")
               for k in range(len(words) - n + 1))


def _says(words: list[str], word: str) -> bool:
    """Whether a title's words say the word (or its plural), not as its negation ("No-Dig", "Non-Slip")."""
    return any(w in (word, f"{word}s") and (k == 0 or words[k - 1] not in TITLE_NEGATIONS) for k, w in enumerate(words))


class Metadata:
    """Product type fit first (the most important fact about a hit), then soft attributes."""

    name = "metadata"

    def scores(self, context: RankContext, items: list[Item]) -> list[SignalScore]:
        parsed = context.parsed
        soft = [c for c in parsed.constraints if c.soft and not c.negated and c.source != LLM_SOURCE]
        suggested = [(c, set(c.values)) for c in parsed.constraints if c.source == LLM_SOURCE and not c.negated]
        out = []
        for it in items:
            product = it.product
            matches, penalties = [], []
            ptype = (product.get("product_type") or "").lower()
            llm_fit = parsed.llm_types.get(ptype, 0.0)
            if parsed.types:
                type_fit = max(parsed.types.get(ptype, 0.0), LLM_TYPE_RELATED * llm_fit)
                if parsed.types.get(ptype, 0.0):
                    grade = parsed.types[ptype]
                    matches.append(f"type: {product.get('product_type')}" + ("" if grade >= 1 else " (related)"))
                elif not llm_fit:
                    penalties.append(f"type {product.get('product_type') or 'unknown'} was not asked for")
            else:
                type_fit = 0.5 + LLM_TYPE_BONUS * llm_fit  # nothing asked: the LLM's types lift, the rest stay even
            if llm_fit:
                matches.append(f"type: {product.get('product_type')} (LLM)")
            attr_fit = 0.5
            if soft:
                hit = 0.0
                for c in soft:
                    if set(product_values(product, c.field)) & set(c.values):
                        hit += 1
                        matches.append(f"{c.vocabulary.rstrip('s')}: {c.term}")
                attr_fit = hit / len(soft)
            for c, allowed in suggested:
                if not allowed.isdisjoint(product_values(product, c.field)):
                    attr_fit = min(1.0, attr_fit + LLM_ATTRIBUTE_BONUS)
                    matches.append(f"{c.vocabulary.rstrip('s')}: {c.term} (LLM)")
            out.append(SignalScore(0.65 * type_fit + 0.35 * attr_fit, matches, penalties))
        return out


class PerProduct:
    """A signal of the product alone, whatever the query."""

    name = ""

    def one(self, product: dict) -> SignalScore:
        raise NotImplementedError

    def scores(self, context: RankContext, items: list[Item]) -> list[SignalScore]:
        return [self.one(it.product) for it in items]


class Quality(PerProduct):
    name = "quality"

    def one(self, product: dict) -> SignalScore:
        rating, reviews = product.get("rating"), product.get("review_count") or 0
        if not rating:
            return SignalScore(0.5)
        score = (rating - 1) / 4 * 0.7
        score += 0.2 if reviews >= 100 else 0.15 if reviews >= 50 else 0.1 if reviews >= 20 else 0.0
        return SignalScore(min(1.0, score))


class Availability(PerProduct):
    """Sold-out products sink below equally relevant ones in stock; a feed without stock data changes nothing."""

    name = "availability"

    def one(self, product: dict) -> SignalScore:
        score = STOCK.get(product.get("availability") or "unknown", 1.0)
        return SignalScore(score, [], ["out of stock"] if score == 0 else [])


SIGNALS: dict[str, Signal] = {s.name: s for s in (Semantic(), Lexical(), Constraints(), Metadata(), Quality(),
                                                  Availability())}
