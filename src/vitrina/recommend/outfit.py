"""Complete the look: an outfit of compatible slots (top and bottom, or a one-piece; shoes; an accessory), each a
real product found by the engine's own search for that slot, under the shopper's gender, occasion, season and
style, within the budget split across slots by their usual share, in colours that go together (any neutrals and
at most one accent family). Rules per domain: rules/<domain>/outfits.json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vitrina.recommend.fit import LookFit
from vitrina.recommend.models import Outfit, OutfitItem, OutfitRules
from vitrina.understand.models import ParsedQuery
from vitrina.vision.colour import colour_family, product_family

# (query, filters, size) -> [(product record, the search's reasons for it)] best first
SlotSearch = Callable[[str, dict[str, Any], int], list[tuple[dict, list[str]]]]
KIDS = {"boys", "girls", "kids"}  # the gender terms that ask for a child's look
ADULT = {"men": ["men", "unisex"], "women": ["women", "unisex"], "boys": ["boys"], "girls": ["girls"],
         "unisex": ["unisex", "men", "women"]}
CANDIDATES = 20


class OutfitBuilder:
    def __init__(self, rules: OutfitRules, search: SlotSearch, catalog: dict[str, dict[str, int]],
                 genders_of: Callable[[list[str]], list[str]] | None = None):
        """`catalog`: the values each field takes in this catalog (CatalogStats.values); `genders_of`: whose the
        catalog's products of some types are (CatalogStats.genders_of), for a look around a piece only named."""
        self.rules = rules
        self.search = search
        self.genders_of = genders_of
        self.slots = rules.catalog_slots(list(catalog.get("type", {})))  # the types this catalog has, by slot
        self.fields = [field for field, values in catalog.items() if values]

    def complements(self, parsed: ParsedQuery) -> bool:
        """'what goes with these jeans': the types named are what the shopper has, not what to find."""
        return bool(parsed.types) and self.rules.complements(parsed.normalized)

    def _looks(self, parsed: ParsedQuery, given_slot: str | None) -> list[list[str]]:
        """The looks to try, best first: those holding the slot of the piece the look is built around, else those
        covering most of the types asked for (a one-piece first where a woman's or girl's look is asked)."""
        looks = self.rules.looks
        if given_slot is not None:
            return [look for look in looks if given_slot in look] or looks[:1]
        asked = {t for t, grade in parsed.types.items() if grade >= 1}
        genders = {v for c in parsed.positive("genders") for v in c.values}

        def covered(look: list[str]) -> tuple[int, bool]:
            hits = sum(1 for slot in look if asked & set(self.slots.get(slot, [])))
            return hits, "one_piece" in look and bool(genders & {"women", "girls"})
        return sorted(looks, key=covered, reverse=True)

    def _slot_text(self, parsed: ParsedQuery, complementing: bool) -> str:
        """The shopper's words for every slot: occasion, season, style, colour, material, gender, negations;
        no product type (each slot has its own), no price (the budget is split instead), and when complementing,
        no colour (it is the colour of what they have)."""
        phrase_words = {w for p in self.rules.complement_phrases for w in p.split()}
        words = [("not " if c.negated else "") + c.term for c in parsed.constraints
                 if not c.implied and not (complementing and c.vocabulary == "colors" and not c.negated)]
        return " ".join(dict.fromkeys(words + [w for w in parsed.keywords if w not in phrase_words]))

    def build(self, parsed: ParsedQuery, given: dict | None = None, budget: float | None = None,
              filters: dict[str, Any] | None = None, complementing: bool | None = None) -> Outfit:
        """An outfit for a parsed request, built around `given` (a product the shopper has or looks at) if any.
        `complementing`: whether the types asked for are what the shopper has (a conversation knows it from the turn
        that named them); None reads it from the request's own words. The looks are tried best first until one
        fills every slot with pieces that keep to it (no one-piece sold for men: a top and bottom; no blazer for
        winter: the look without one); else the one that fills most, with the fewest pieces that do not."""
        given_slot = self.rules.slot_of(given.get("product_type")) if given else None
        if complementing is None:
            complementing = self.complements(parsed)
        if given is None and complementing and parsed.types:
            given_slot = next((self.rules.slot_of(t) for t in parsed.types if self.rules.slot_of(t)), None)
            whose = self.genders_of([t for t, g in parsed.types.items() if g >= 1]) if self.genders_of else []
            if whose and not parsed.positive("genders") and "gender" not in (filters or {}):
                filters = {**(filters or {}), "gender": whose}  # "what goes with a black dress": a woman's look
        if budget is None and parsed.price is not None and parsed.price.catalog_max is not None:
            budget = parsed.price.catalog_max
        best: tuple[int, int] | None = None
        chosen: Outfit | None = None
        for look in self._looks(parsed, given_slot):
            outfit, misfits = self._fill(look, parsed, given, given_slot, budget, filters)
            if best is None or (len(outfit.missing), misfits) < best:
                best, chosen = (len(outfit.missing), misfits), outfit
            if best == (0, 0):
                break
        assert chosen is not None  # the rules have at least one look
        return chosen

    def _fill(self, look: list[str], parsed: ParsedQuery, given: dict | None, given_slot: str | None,
              budget: float | None, filters: dict[str, Any] | None) -> tuple[Outfit, int]:
        """One look's slots, each a real product, and how many of its pieces do not keep to the look."""
        asked = {t for t, grade in parsed.types.items() if grade >= 1} if given_slot is None else set()
        # the slots of the types asked for first: "an outfit with a blazer" is built around the blazer
        to_fill = sorted((slot for slot in look if slot != given_slot),
                         key=lambda slot: not asked & set(self.slots.get(slot, [])))
        shares = sum(self.rules.budget_share.get(slot, 0.2) for slot in to_fill) or 1.0
        base = dict(filters or {})
        self._keep_to(base, parsed, given)
        fit = LookFit(self.rules, parsed, self.fields)
        if given:
            fit.anchor(given)
        text = self._slot_text(parsed, given is None and given_slot is not None)
        families = [f for f in [product_family(given)] if f] if given else []
        if given is None and given_slot is not None:  # "goes with my black jeans": their colour counts
            families += [f for c in parsed.positive("colors") for f in [colour_family(c.term)] if f]
        items = [OutfitItem(slot=given_slot or "given", product=given, given=True,
                            reasons=["the piece this look is built around"])] if given else []
        missing, misfits = [], 0
        for slot in to_fill:
            types = self.slots.get(slot, [])
            if not types:  # the catalog sells nothing for this slot
                missing.append(slot)
                continue
            slot_budget = round(budget * self.rules.budget_share.get(slot, 0.2) / shares, 2) if budget else None
            limits = {**base, "price": {"lte": slot_budget}} if slot_budget is not None else base
            wanted = [t for t in types if t in asked]  # the slot's types the request names (office: formal shoes)
            chosen = self._choose(text, {**limits, "type": wanted}, fit, families) if wanted else None
            if chosen is None:  # none named, or none for this gender (a woman's office shoes are heels, flats)
                chosen = self._choose(text, {**limits, "type": types}, fit, families)
            if chosen is None:
                missing.append(slot)
                continue
            product, reasons = chosen
            self._keep_to(base, parsed, product)  # the first piece decides whose look it is
            fit.anchor(product)
            family = product_family(product)
            why = [f"{product.get('product_type')} for the {slot.replace('_', '-')}"] + list(dict.fromkeys(reasons))[:3]
            why += fit.reasons(product)
            astray = fit.misfits(product)
            misfits += bool(astray)
            why += [f"no {slot.replace('_', '-')} of this catalog keeps to the look's {field} here: the nearest"
                    for field in astray]
            if family:
                others = [f for f in families if f != family]
                why.append(f"{family} goes with {', '.join(dict.fromkeys(others))}" if others else
                           f"{family}: the look's colour" if family not in self.rules.neutral_families else
                           f"{family}: a neutral")
                families.append(family)
            if slot_budget is not None:
                why.append(f"{product.get('price')} within this slot's share of the budget ({slot_budget})")
            items.append(OutfitItem(slot=slot, product=product, reasons=why, budget=slot_budget))
        items.sort(key=lambda i: (not i.given, look.index(i.slot) if i.slot in look else 0))  # shown in the look's order
        added = [i.product.get("price") for i in items if not i.given]
        total = round(sum(p for p in added if p is not None), 2) if added else None
        return Outfit(items=items, look=look, total=total, budget=budget, missing=missing), misfits

    def _choose(self, text: str, filters: dict[str, Any], fit: LookFit,
                families: list[str]) -> tuple[dict, list[str]] | None:
        """A slot's piece and the search's reasons for it: searched under the look's occasion and season, then
        under what goes with them, then with fewer of them kept (a caller's own filter on those fields stands
        throughout); the best match that keeps to the look and to its colours, else one that keeps to the look,
        else one in its colours, else the best match."""
        fitting = harmonious = best = None
        for tier in fit.tiers():
            tiered = {**tier, **filters}
            found = self.search(text, tiered, CANDIDATES)
            if not found and text:  # words no product of this slot has: the slot's own type instead
                found = self.search("", tiered, CANDIDATES)
            for candidate in found:
                fits, goes = not fit.misfits(candidate[0]), self._harmonious(families, product_family(candidate[0]))
                if fits and goes:
                    return candidate
                fitting = fitting or (candidate if fits else None)
                harmonious = harmonious or (candidate if goes else None)
                best = best or candidate
        return fitting or harmonious or best

    def _keep_to(self, base: dict[str, Any], parsed: ParsedQuery, product: dict | None) -> None:
        """Whose look it is: the gender and age group asked for, else those of `product` (the piece it is built
        around, or its first), each unless the caller filtered on it already."""
        asked = {c.term for c in parsed.positive("genders")}
        if "age_group" in self.fields and "age_group" not in base:
            if asked:  # "for men" is an adult's look; "for girls" a child's
                base["age_group"] = ["kids"] if asked & KIDS else ["adult"]
            elif product and product.get("age_group"):
                base["age_group"] = [product["age_group"].lower()]
        if "gender" in base or "gender" not in self.fields:
            return
        if asked:  # hard for every slot, also where a slot's search falls back to the type alone
            base["gender"] = sorted({v for c in parsed.positive("genders") for v in c.values})
        elif product and product.get("gender"):
            base["gender"] = ADULT.get(product["gender"].lower(), [product["gender"].lower()])

    def _harmonious(self, families: list[str], family: str | None) -> bool:
        """Neutrals go with anything; a look keeps to one accent family."""
        if family is None or family in self.rules.neutral_families:
            return True
        accents = {f for f in families if f not in self.rules.neutral_families}
        return not accents or accents == {family}
