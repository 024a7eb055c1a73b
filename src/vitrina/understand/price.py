"""Price phrases: numbers with currency symbols or words, bounds (under / between / around / over)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vitrina.understand.models import PriceRange
from vitrina.understand.rules import PriceWords


def alternation(words: list[str]) -> str:
    """The words as one regex alternation, the longest first (so a phrase wins over its own first word)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _to_number(text: str, multipliers: dict[str, float]) -> float:
    """"1,500" -> 1500; "3k", "2 thousand", "1.5 lakh" -> scaled by the word after the digits."""
    digits = re.match(r"[\d.,]+", text)
    if digits is None:  # the patterns' number group starts with a digit
        raise ValueError(f"not an amount: {text!r}")
    factor = multipliers.get(text[digits.end():].strip().lower(), 1.0)
    return float(digits.group(0).replace(",", "")) * factor


@dataclass
class PriceMatch:
    range: PriceRange
    span: tuple[int, int]


class PriceExtractor:
    def __init__(self, words: PriceWords):
        self.words = words
        self._currency_of = {s.lower(): code for code, c in words.currencies.items() for s in c.symbols}
        cur = alternation(list(self._currency_of))
        number = rf"(\d+(?:[.,]\d+)*(?:\s*(?:{alternation(list(words.multipliers))}))?)"
        amount = rf"(?:(?P<c1>{cur})\s*)?{number}(?:\s*(?P<c2>{cur}))?"
        # A second amount reuses the same groups with other names.
        amount2 = amount.replace("c1", "c3").replace("c2", "c4")
        b = r"(?<![\w/.])"
        after = rf"(?P<after>\s*(?:{alternation(words.between_words_after)}))?" if words.between_words_after else ""
        self._between = re.compile(
            rf"{b}(?P<word>(?:{alternation(words.between_words)})\s*)?{amount}\s*(?:and|to|-|–)\s*{amount2}{after}"
            rf"(?![\w/])")
        units = alternation(words.units) if words.units else None
        self._unit_after = re.compile(rf"\s*(?:{units})\b") if units else None
        self._max = re.compile(rf"{b}(?:{alternation(words.max_words)})\s*{amount}(?![\w])")
        self._max_after = re.compile(rf"{b}{amount}\s*(?:{alternation(words.max_words_after)})(?![\w])") \
            if words.max_words_after else None
        self._min = re.compile(rf"{b}(?:{alternation(words.min_words)})\s*{amount}(?![\w])")
        self._around = re.compile(rf"{b}(?:{alternation(words.around_words)})\s*{amount}(?![\w])")
        # A bare amount counts only with a currency: "shoes 2000" could be a model number.
        self._bare = re.compile(rf"{b}(?:(?P<c1>{cur})\s*{number}|{number}\s*(?P<c2>{cur}))(?![\w])")
        # Nor a bare amount in thousands ("casual shoes 1.5k": about that): no size or model number is written so;
        # "a 5k" is a race, "2700k" a colour temperature
        self._thousands = re.compile(rf"{b}(?<!\ba )(?<!\bthe )(\d+(?:[.,]\d+)*\s*(?:"
                                     rf"{alternation(list(words.multipliers))}))(?![\w])") if words.multipliers else None
        self._relative = [(name, re.compile(rf"{b}(?:{alternation(r.aliases)})(?![\w])"))
                          for name, r in words.relative.items()]
        self._refine = [(name, re.compile(rf"{b}(?:{alternation(r.aliases)})(?![\w])"))
                        for name, r in words.refinements.items()]

    def _currency(self, m: re.Match, *groups: str) -> str | None:
        for g in groups:
            if m.groupdict().get(g):
                return self._currency_of[m.group(g).lower()]
        return None

    def extract(self, text: str) -> PriceMatch | None:
        for m in self._between.finditer(text):
            nums = [self._number(g) for g in m.groups() if g and re.match(r"\d", g)][:2]
            cur = self._currency(m, "c1", "c2", "c3", "c4")
            said = m.group("word") or m.groupdict().get("after") or cur
            if not said and not self._plausible_range(nums, text, m.end()):
                continue  # "10-2 wire", "1-1/8 in.", "12 x 24": sizes and model numbers, not prices
            low, high = sorted(nums)
            return PriceMatch(PriceRange(min=low, max=high, currency=cur, source=m.group(0).strip()), m.span())
        for pattern, kind in ((self._max, "max"), (self._max_after, "max"), (self._min, "min"),
                              (self._around, "around")):
            found = pattern.search(text) if pattern else None
            if not found:
                continue
            m = found
            number = next(g for g in m.groups() if g and re.match(r"\d", g))
            value = self._number(number)
            cur = self._currency(m, "c1", "c2")
            source = m.group(0).strip()
            if kind == "max":
                rng = PriceRange(max=value, currency=cur, source=source)
            elif kind == "min":
                rng = PriceRange(min=value, currency=cur, source=source)
            else:
                rng = self._around_value(value, cur, source)
            return PriceMatch(rng, m.span())
        bare = self._bare.search(text)
        if bare:
            m = bare
            number = next(g for g in m.groups() if g and re.match(r"\d", g))
            value = self._number(number)
            return PriceMatch(PriceRange(max=value, currency=self._currency(m, "c1", "c2"),
                                         source=m.group(0).strip()), m.span())
        for m in self._thousands.finditer(text) if self._thousands else ():
            measure = self._unit_after and self._unit_after.match(text, m.end())  # "5k btu"
            if not measure and _to_number(m.group(1), {}) < 1000:  # the digits before the multiplier
                return PriceMatch(self._around_value(self._number(m.group(1)), None, m.group(0).strip()), m.span())
        return None

    def _around_value(self, value: float, currency: str | None, source: str) -> PriceRange:
        tol = self.words.around_tolerance
        return PriceRange(min=round(value * (1 - tol), 2), max=round(value * (1 + tol), 2), currency=currency,
                          source=source)

    def _number(self, text: str) -> float:
        return _to_number(text, self.words.multipliers)

    def _plausible_range(self, nums: list[float], text: str, end: int) -> bool:
        """A bare "500-1000" reads as a price range; a descending, tiny or measured one does not."""
        if len(nums) < 2 or not (10 <= nums[0] < nums[1]):
            return False
        return not (self._unit_after and self._unit_after.match(text, end))

    def price_words(self, text: str) -> list[tuple[str, str, tuple[int, int]]]:
        """Relative price words ("cheap") and refinements ("cheaper"), leftmost-longest and not overlapping, so
        "not too expensive" is one phrase (cheap), not the refinement "too expensive" after a stray "not"."""
        found = [(m.start(), -(m.end() - m.start()), kind, name, m.span())
                 for kind, patterns in (("relative", self._relative), ("refinement", self._refine))
                 for name, pattern in patterns for m in pattern.finditer(text)]
        taken: list[tuple[str, str, tuple[int, int]]] = []
        end = -1
        for start, _, kind, name, span in sorted(found):
            if start >= end:
                taken.append((kind, name, span))
                end = span[1]
        return taken

    def convert(self, amount: float, from_currency: str | None, to_currency: str | None) -> float:
        if not from_currency or not to_currency or from_currency == to_currency:
            return amount
        rates = self.words.currencies
        if from_currency not in rates or to_currency not in rates:
            return amount
        return round(amount / rates[from_currency].per_usd * rates[to_currency].per_usd, 2)
