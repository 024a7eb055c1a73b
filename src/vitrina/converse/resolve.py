"""Conversation resolution: every turn read in the light of the ones before it, shown results included.

Turn by turn: "the third one but in black" takes the third shown product's type and words; "cheaper ones" caps
the price relative to what the turn before showed; constraints carry forward (converse/history.py). Each step
builds a new immutable ParsedQuery, so a refinement resolved on turn two still holds on turn five.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from vitrina.converse.history import Turn, merge_turn
from vitrina.understand.models import ParsedQuery, PriceRange, QueryDraft
from vitrina.understand.parser import QueryParser

PRONOUNS = {"ones", "one", "pair", "pairs"}  # "formal ones": what the carried type's noun stands in for
ProductLookup = Callable[[list[str]], dict[str, dict]]  # product ids -> product records (unknown ids left out)
PreviousPrices = Callable[[ParsedQuery], list[float]]  # what a query would show first, as prices


class ConversationResolver:
    """The Understander of the full pipeline: rules parsing plus conversation."""

    def __init__(self, parser: QueryParser, lookup: ProductLookup, previous_prices: PreviousPrices):
        self.parser = parser
        self.lookup = lookup
        self.previous_prices = previous_prices

    def understand(self, query: str, history: Sequence[Turn] = ()) -> ParsedQuery:
        turns = [*history, Turn(query=query)]
        state: ParsedQuery | None = None
        for k, turn in enumerate(turns):
            draft = self.parser.draft(turn.query, carried=self._carried(state))
            if state is not None and not draft.types and not draft.references:
                draft = self._named_with_carried_noun(turn.query, draft, state)
            if state is not None:
                self.parser.refer_back(draft, state)
            shown = turns[k - 1].shown if k else []
            if draft.references and shown:
                self._resolve_reference(draft, shown)
            merged = merge_turn(state, self.parser.build(draft)) if state is not None else draft
            if draft.refinements and state is not None:
                self._resolve_refinements(merged, shown, state)
            state = self.parser.build(merged)
        assert state is not None
        return state

    def _named_with_carried_noun(self, query: str, draft: QueryDraft, state: ParsedQuery) -> QueryDraft:
        """'formal ones' after 'casual shoes': the turn's words with the carried type's noun ('formal shoes'), where
        they name another type than the noun alone does; else the turn as it was ('in black', 'cotton ones')."""
        if not self._carries_a_type(state):
            return draft
        named = [t for t, grade in state.types.items() if grade >= 1]
        noun = named[0].split()[-1]  # "casual shoes" -> "shoes"
        alone = self.parser.draft(noun)
        words = query.lower().split()
        if not alone.types and words[:1] == ["with"]:  # "kurta sets", "with dupatta": "sets" names nothing
            noun, alone = named[0], self.parser.draft(named[0])
        joined = [noun if w in PRONOUNS else w for w in words]
        if joined == words:  # "with a hood": the noun heads what follows it ("jackets with a hood")
            joined = [noun, *words] if words[:1] == ["with"] else [*words, noun]
        retry = self.parser.draft(" ".join(joined), carried=self._carried(state))
        return retry if retry.types and retry.types != alone.types and not retry.types_implied else draft

    @staticmethod
    def _carries_a_type(state: ParsedQuery) -> bool:
        return not state.types_implied and any(grade >= 1 for grade in state.types.values())

    @classmethod
    def _carried(cls, state: ParsedQuery | None) -> frozenset[str]:
        """The types the conversation so far asked for by name, if it did."""
        if state is None or not cls._carries_a_type(state):
            return frozenset()
        return frozenset(t for t, grade in state.types.items() if grade >= 1)

    def _resolve_reference(self, draft: QueryDraft, shown: list[str]) -> None:
        """'the third one but in black': that product's type and words, with the new constraints."""
        position = draft.references[0]
        index = position - 1 if position > 0 else len(shown) - 1
        if not 0 <= index < len(shown):
            return
        product = self.lookup([shown[index]]).get(shown[index])
        if product is None:
            return
        ptype = (product.get("product_type") or "").lower()
        if ptype and not draft.types:
            draft.types = {ptype: 1.0}
        own_colours = {c.lower() for c in product.get("colors", [])}
        title = [w for w in product.get("title", "").split() if w.lower() not in own_colours]
        asked = [c.term for c in draft.positive("colors")]
        draft.keywords = list(dict.fromkeys([*(w.lower() for w in title), *draft.keywords]))
        draft.semantic_text = " ".join([*title, *asked])

    def _resolve_refinements(self, merged: QueryDraft, shown: list[str], previous: ParsedQuery) -> None:
        """'cheaper ones': relative to the median price of what the previous turn showed (or would show)."""
        prices = [p.get("price") for p in self.lookup(shown).values()] if shown else self.previous_prices(previous)
        known = [float(p) for p in prices if p]
        if not known:
            return
        median = statistics.median(known)
        rules = self.parser.rules.price_words.refinements
        currency = self.parser.stats.currency
        price = merged.price or PriceRange()
        for name in merged.refinements:
            rule = rules.get(name)
            if rule is None:
                continue
            # Stated in the catalog's currency, so building the query again gives the same cap.
            # A bound stated in numbers holds too ("cheaper ones, under 400"): the tighter of the two is kept.
            said_max, said_min = (price.catalog_max, price.catalog_min) if price.hard else (None, None)
            update: dict = {"hard": True, "relative": None, "currency": currency, "source": name}
            if rule.max_factor_of_median:
                cap = round(median * rule.max_factor_of_median, 2)
                update["max"] = cap if said_max is None else min(cap, said_max)
            if rule.min_factor_of_median:
                floor = round(median * rule.min_factor_of_median, 2)
                update["min"] = floor if said_min is None else max(floor, said_min)
            price = price.model_copy(update=update)
        merged.price = price
