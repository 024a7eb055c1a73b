"""Complete the look: an outfit of compatible slots (top and bottom, or a one-piece; shoes; an accessory), each a
real product found by the engine's own search for that slot, under the shopper's gender, occasion, season and
style, within the budget split across slots by their usual share, in colours that go together (any neutrals and
at most one accent family). Rules per domain: rules/<domain>/outfits.json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vitrina.recommend.models import Outfit, OutfitItem, OutfitRules
from vitrina.understand.models import ParsedQuery
from vitrina.vision.colour import colour_family, product_family

# (query, filters, size) -> [(product record, the search's reasons for it)] best first
SlotSearch = Callable[[str, dict[str, Any], int], list[tuple[dict, list[str]]]]
ADULT = {"men": ["men", "unisex"], "women": ["women", "unisex"], "boys": ["boys"], "girls": ["girls"],
         "unisex": ["unisex", "men", "women"]}
CANDIDATES = 20


class OutfitBuilder:
    def __init__(self, rules: OutfitRules, search: SlotSearch, catalog_types: list[str]):
        self.rules = rules
        self.search = search
        self.slots = rules.catalog_slots(catalog_types)  # the types this catalog has, by slot

    def complements(self, parsed: ParsedQuery) -> bool:
        """'what goes with these jeans': the types named are what the shopper has, not what to find."""
        text = f" {parsed.normalized} "
        return bool(parsed.types) and any(f" {p} " in text for p in self.rules.complement_phrases)

    def _look(self, parsed: ParsedQuery, given_slot: str | None) -> list[str]:
        looks = self.rules.looks
        if given_slot is not None:
            return next((look for look in looks if given_slot in look), looks[0])
        asked = {t for t, grade in parsed.types.items() if grade >= 1}
        genders = {v for c in parsed.positive("genders") for v in c.values}

        def covered(look: list[str]) -> tuple[int, int]:
            hits = sum(1 for slot in look if asked & set(self.slots.get(slot, [])))
            one_piece = "one_piece" in look and bool(genders & {"women", "girls"})
            return hits, one_piece
        return max(looks, key=covered)

    def _slot_text(self, parsed: ParsedQuery, complementing: bool) -> str:
        """The shopper's words for every slot: occasion, season, style, colour, material, gender, negations;
        no product type (each slot has its own), no price (the budget is split instead), and when complementing,
        no colour (it is the colour of what they have)."""
        phrase_words = {w for p in self.rules.complement_phrases for w in p.split()}
        words = [("not " if c.negated else "") + c.term for c in parsed.constraints
                 if not c.implied and not (complementing and c.vocabulary == "colors" and not c.negated)]
        return " ".join(dict.fromkeys(words + [w for w in parsed.keywords if w not in phrase_words]))

    def build(self, parsed: ParsedQuery, given: dict | None = None, budget: float | None = None,
              filters: dict[str, Any] | None = None) -> Outfit:
        """An outfit for a parsed request, built around `given` (a product the shopper has or looks at) if any."""
        given_slot = self.rules.slot_of(given.get("product_type")) if given else None
        if given is None and self.complements(parsed):
            given_slot = next((self.rules.slot_of(t) for t in parsed.types if self.rules.slot_of(t)), None)
        look = self._look(parsed, given_slot)
        to_fill = [slot for slot in look if slot != given_slot]
        if budget is None and parsed.price is not None and parsed.price.catalog_max is not None:
            budget = parsed.price.catalog_max
        shares = sum(self.rules.budget_share.get(slot, 0.2) for slot in to_fill) or 1.0
        base = dict(filters or {})
        if given and given.get("gender") and "gender" not in base:
            base["gender"] = ADULT.get(given["gender"].lower(), [given["gender"].lower()])
        asked = {t for t, grade in parsed.types.items() if grade >= 1} if given_slot is None else set()
        text = self._slot_text(parsed, given is None and given_slot is not None)
        families = [f for f in [product_family(given)] if f] if given else []
        if given is None and given_slot is not None:  # "goes with my black jeans": their colour counts
            families += [f for c in parsed.positive("colors") for f in [colour_family(c.term)] if f]
        items = [OutfitItem(slot=given_slot or "given", product=given, given=True,
                            reasons=["the piece this look is built around"])] if given else []
        missing = []
        for slot in to_fill:
            types = self.slots.get(slot, [])
            if not types:  # the catalog sells nothing for this slot
                missing.append(slot)
                continue
            wanted = [t for t in types if t in asked] or types
            slot_budget = round(budget * self.rules.budget_share.get(slot, 0.2) / shares, 2) if budget else None
            slot_filters = {**base, "type": wanted}
            if slot_budget is not None:
                slot_filters["price"] = {"lte": slot_budget}
            found = self.search(text, slot_filters, CANDIDATES)
            if not found and text:  # words no product of this slot has: the slot's own type instead
                found = self.search("", slot_filters, CANDIDATES)
            if not found:
                missing.append(slot)
                continue
            product, reasons = next(((p, r) for p, r in found if self._harmonious(families, product_family(p))), found[0])
            if "gender" not in base and product.get("gender"):  # the first piece decides whose look it is
                base["gender"] = ADULT.get(product["gender"].lower(), [product["gender"].lower()])
            family = product_family(product)
            why = [f"{product.get('product_type')} for the {slot.replace('_', '-')}"] + list(dict.fromkeys(reasons))[:3]
            if family:
                others = [f for f in families if f != family]
                why.append(f"{family} goes with {', '.join(dict.fromkeys(others))}" if others else
                           f"{family}: the look's colour" if family not in self.rules.neutral_families else
                           f"{family}: a neutral")
                families.append(family)
            if slot_budget is not None:
                why.append(f"{product.get('price')} within this slot's share of the budget ({slot_budget})")
            items.append(OutfitItem(slot=slot, product=product, reasons=why, budget=slot_budget))
        added = [i.product.get("price") for i in items if not i.given]
        total = round(sum(p for p in added if p is not None), 2) if added else None
        return Outfit(items=items, look=look, total=total, budget=budget, missing=missing)

    def _harmonious(self, families: list[str], family: str | None) -> bool:
        """Neutrals go with anything; a look keeps to one accent family."""
        if family is None or family in self.rules.neutral_families:
            return True
        accents = {f for f in families if f not in self.rules.neutral_families}
        return not accents or accents == {family}
