"""What the pieces of one look share beyond gender: an occasion and a season.

A look keeps to the occasions and seasons the shopper asked for ("a beach wedding", "winter"), else to those of
its first piece (the product it is built around, or the first one found), so a gym T-shirt never meets formal
shoes. A slot takes a piece with exactly those labels where one exists, else one whose label shares a group of
the domain's rules with them (rules/<domain>/outfits.json: formal shoes for a wedding where no ethnic ones are
sold), else the nearest piece, said as such. A product without a label fits anything: the feed is silent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vitrina.recommend.models import OutfitRules
from vitrina.understand.models import ParsedQuery

FIT_FIELDS = ("occasions", "seasons")  # the products' fields, the rules' vocabularies and filter names alike
_NOUN = {"occasions": "wear", "seasons": "season"}


def labels_of(product: dict, field: str) -> frozenset[str]:
    return frozenset(str(v).lower() for v in product.get(field) or [])


@dataclass(frozen=True)
class FieldFit:
    """One field a look keeps to: the labels asked for or set by its first piece, and those that go with them."""
    field: str
    preferred: frozenset[str]
    compatible: frozenset[str]
    asked: tuple[str, ...] = ()  # the shopper's terms ("wedding"); empty when the first piece set it

    def fits(self, product: dict) -> bool:
        labels = labels_of(product, self.field)
        return not labels or bool(labels & self.compatible)

    def reason(self, product: dict) -> str | None:
        """Why a piece belongs, in this field; None for a product the feed gives no label."""
        labels = sorted(labels_of(product, self.field) & self.compatible)
        if not labels:
            return None
        why = f"for {' and '.join(self.asked)}" if self.asked else "like the rest of the look"
        return f"{', '.join(labels)} {_NOUN[self.field]}, {why}"


class LookFit:
    """The occasion and season one look keeps to, and the filters a slot is searched under to keep to them."""

    def __init__(self, rules: OutfitRules, parsed: ParsedQuery, catalog_fields: Iterable[str]):
        self.rules = rules
        # A catalog whose products never carry a field is not filtered on it: every search would come back empty.
        present = set(catalog_fields)
        self.fields = [f for f in FIT_FIELDS if f in present]
        self.fits: dict[str, FieldFit] = {}
        for field in self.fields:
            asked = [c for c in parsed.positive(field) if c.values]
            if asked:
                values = {v.lower() for c in asked for v in c.values}
                self.fits[field] = FieldFit(field, frozenset(values), rules.compatible(field, values),
                                            tuple(dict.fromkeys(c.term for c in asked)))

    def anchor(self, product: dict) -> None:
        """A field the shopper left open keeps to the labels of the look's first piece that has some."""
        for field in self.fields:
            labels = labels_of(product, field)
            if field not in self.fits and labels:
                self.fits[field] = FieldFit(field, labels, self.rules.compatible(field, labels))

    def tiers(self) -> list[dict[str, list[str]]]:
        """The filters to search a slot under, in turn: exactly the look's labels, then those that go with them,
        then each field's alone (keeping the one the shopper asked for before one the first piece set), then none."""
        exact = {f: sorted(fit.preferred) for f, fit in self.fits.items()}
        near = {f: sorted(fit.compatible) for f, fit in self.fits.items()}
        dropped = [{f: v for f, v in near.items() if f != field}
                   for field in sorted(near, key=lambda f: bool(self.fits[f].asked))]
        tiers = [exact, near, *dropped, {}]
        return [tier for n, tier in enumerate(tiers) if tier not in tiers[:n]]

    def misfits(self, product: dict) -> list[str]:
        """The fields in which a product does not go with the look."""
        return [field for field, fit in self.fits.items() if not fit.fits(product)]

    def reasons(self, product: dict) -> list[str]:
        return [why for fit in self.fits.values() if (why := fit.reason(product))]
