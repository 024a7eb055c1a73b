"""An outfit as the API returns it: one real product per slot, each with why it was chosen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from vitrina.understand.models import ParsedQuery


class OutfitRules(BaseModel):
    """rules/<domain>/outfits.json: slots of product types, looks made of slots, budget shares, colour harmony."""
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    slots: dict[str, list[str]]
    looks: list[list[str]]
    budget_share: dict[str, float]
    # Labels that go together in one look, by field: a look asked for (or begun) in one label may take a piece
    # with another label of a group they share.
    occasion_groups: list[list[str]] = Field(default_factory=list)
    season_groups: list[list[str]] = Field(default_factory=list)
    neutral_families: list[str] = Field(default_factory=list)
    complement_phrases: list[str] = Field(default_factory=list)  # none here: the language's (engine.outfit_rules)

    def slot_of(self, product_type: str | None) -> str | None:
        """The slot of a type; "jumpsuit/playsuit" is either of its names."""
        keys = {type_key(name) for name in (product_type or "").split("/")}
        return next((slot for slot, types in self.slots.items() if keys & {type_key(t) for t in types}), None)

    def complements(self, text: str) -> bool:
        """Whether a request's words ask what goes with something ("what goes with black jeans")."""
        padded = f" {text} "
        return any(f" {phrase} " in padded for phrase in self.complement_phrases)

    def complementing(self, turns: list[str], parse: Callable[[str], ParsedQuery]) -> bool:
        """Whether a conversation (oldest turn first) asks what goes with the types it carries: as the newest turn
        that names types asked ("what goes with black jeans", then "for women")."""
        for text in reversed(turns):
            turn = parse(text)
            if turn.types and not turn.types_implied:
                return self.complements(turn.normalized)
        return False

    def goes_with(self, product_types: Iterable[str]) -> dict[str, float]:
        """The types that go with pieces of these types, graded: each look holding their slots gives its first
        other slot 1 (a top for jeans; shoes for a dress), the rest 0.5. Empty where no type has a slot."""
        have = {slot for slot in map(self.slot_of, product_types) if slot}
        grades: dict[str, float] = {}
        for look in self.looks:
            others = [slot for slot in look if slot not in have] if have & set(look) else []
            for rank, slot in enumerate(others):
                for name in self.slots[slot]:
                    grades[name] = max(grades.get(name, 0.0), 1.0 if rank == 0 else 0.5)
        return grades

    def compatible(self, field: str, labels: Iterable[str]) -> frozenset[str]:
        """The labels of `field` ("occasions", "seasons") that go with any of `labels`: they and every label of a
        group holding one of them."""
        groups = {"occasions": self.occasion_groups, "seasons": self.season_groups}[field]
        wanted = {label.lower() for label in labels}
        return frozenset(wanted.union(*(g for g in groups if wanted & set(g))))

    def catalog_slots(self, catalog_types: list[str]) -> dict[str, list[str]]:
        """Each slot's types as this catalog spells them ("T-shirt" for the rules' "tshirts")."""
        out: dict[str, list[str]] = {slot: [] for slot in self.slots}
        for kind in catalog_types:
            slot = self.slot_of(kind)
            if slot is not None:
                out[slot].append(kind)
        return out


@cache  # a handful of type names, compared on every outfit request
def type_key(product_type: str) -> str:
    """A type name compared across catalogs: lower case, letters only, each word stemmed."""
    words = re.sub(r"[^a-z ]", "", product_type.lower().replace("-", "")).split()
    return " ".join(_stemmer().stemWords(words))


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class OutfitItem(BaseModel):
    slot: str
    product: dict
    reasons: list[str] = Field(default_factory=list)
    budget: float | None = None  # this slot's share of the shopper's budget
    given: bool = False  # the product the look was built around


class Outfit(BaseModel):
    items: list[OutfitItem]
    look: list[str]  # the slots, in order
    total: float | None = None  # the price of the products it adds
    budget: float | None = None
    missing: list[str] = Field(default_factory=list)  # slots no product fits (within the budget and filters)
