"""Rules plus the catalog's own taxonomy and brands, compiled into one phrase table for fast matching."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vitrina.catalog.stats import CatalogStats
from vitrina.understand.rules import MAX_PHRASE, RuleSet, Term, Vocabulary

RELATED = 0.5  # the grade of a type a category word names beside the one it asks for
_PUNCT = re.compile(r"[^\w\s&'/%-]")


def phrase_key(text: str) -> str:
    """The form phrases are compared in: lower case, punctuation and hyphens as spaces."""
    text = _PUNCT.sub(" ", text.lower().replace("-", " ").replace("'", ""))
    return " ".join(text.split())


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass
class Lexicon:
    rules: RuleSet
    vocabularies: dict[str, Vocabulary]
    phrases: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # key -> [(vocabulary, term)]
    _values: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    _near: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def add(self, phrase: str, vocabulary: str, term: str) -> None:
        key = phrase_key(phrase)
        if not key:
            return
        entries = self.phrases.setdefault(key, [])
        if (vocabulary, term) not in entries:
            entries.append((vocabulary, term))

    def term(self, vocabulary: str, term: str) -> Term:
        return self.vocabularies[vocabulary].terms[term]

    def values(self, vocabulary: str, term: str) -> frozenset[str]:
        """Catalog values (lower case) that satisfy a term, its includes followed transitively."""
        key = (vocabulary, term)
        if key not in self._values:
            t = self.term(vocabulary, term)
            own = t.values if t.values is not None else [term, *t.aliases]
            out = {v.lower() for v in own}
            self._values[key] = frozenset(out)  # guards include cycles
            for inc in t.includes:
                out |= self.values(vocabulary, inc)
            self._values[key] = frozenset(out)
        return self._values[key]

    def near(self, vocabulary: str, term: str) -> frozenset[str]:
        """Values of the broader terms that include this one, less its own: a near miss ("tan" asked, a brown bag)."""
        key = (vocabulary, term)
        if key not in self._near:  # once per term: it is read for every constraint of every query
            broader = [name for name, t in self.vocabularies[vocabulary].terms.items() if term in t.includes]
            out = frozenset().union(*(self.values(vocabulary, name) for name in broader))
            self._near[key] = out - self.values(vocabulary, term)
        return self._near[key]

    def lookup(self, tokens: list[str], start: int) -> tuple[int, list[tuple[str, str]]] | None:
        """Longest phrase starting at tokens[start]: (length, entries); the last word may be plural."""
        for length in range(min(MAX_PHRASE, len(tokens) - start), 0, -1):
            if length == 1 and start + 1 < len(tokens):
                # A one-word phrase typed as two: "ear rings", "back pack", "neck lace", a brand ("fab india")
                joined = tokens[start] + tokens[start + 1]
                entries = self.phrases.get(joined) or self.phrases.get(singular(joined))
                if entries:
                    return 2, entries
            words = tokens[start:start + length]
            key = " ".join(words)
            if key in self.phrases:
                return length, self.phrases[key]
            alt = " ".join([*words[:-1], singular(words[-1])])
            if alt in self.phrases:
                return length, self.phrases[alt]
        return None

    def words(self) -> set[str]:
        """Every single word of every phrase: words the spelling corrector must never change."""
        return {w for key in self.phrases for w in key.split()}


def build_lexicon(rules: RuleSet, stats: CatalogStats | None = None) -> Lexicon:
    vocabularies = {name: v.model_copy(deep=True) for name, v in rules.vocabularies.items()}
    stats = stats or CatalogStats()
    # The catalog's own product types become category terms, its brands brand terms.
    categories = vocabularies.setdefault("categories", Vocabulary(field="type", terms={}))
    named = {phrase_key(p): name for name, t in categories.terms.items() for p in (name, *t.aliases)}
    for type_value in stats.values.get("type", {}):
        key = phrase_key(type_value)
        rule = named.get(key) or named.get(singular(key))
        if rule:  # a rule word that is also the catalog's own type name asks for that type first
            term = categories.terms[rule]
            if phrase_key(rule) in (key, singular(key)) or term.types.get(type_value, 0.0) >= 1:
                term.types[type_value] = 1.0
            else:  # only an alias ("deodorant" of fragrance): it asks for that type, the rule's others related,
                # and the rule's own word keeps its grades ("fragrance" asks for perfume, deodorant related)
                own = [a for a in term.aliases if phrase_key(a) in (key, singular(key))]
                term.aliases = [a for a in term.aliases if a not in own]
                related = {t: min(grade, RELATED) for t, grade in term.types.items()}
                categories.terms[type_value] = Term(aliases=own, types={**related, type_value: 1.0})
        if type_value not in categories.terms:
            categories.terms[type_value] = Term(types={type_value: 1.0})
    brands = vocabularies.setdefault("brands", Vocabulary(field="brand", terms={}))
    catalog_brands = set(stats.values.get("brand", {}))
    for name, term in list(brands.terms.items()):  # rule aliases point at the catalog's spelling
        spelled = next((b for b in catalog_brands if phrase_key(b) == phrase_key(name)), None)
        if spelled and spelled != name:
            brands.terms[spelled] = Term(aliases=[name, *term.aliases])
            del brands.terms[name]
    for brand in catalog_brands:
        brands.terms.setdefault(brand, Term())
    lexicon = Lexicon(rules=rules, vocabularies=vocabularies)
    for name, vocabulary in vocabularies.items():
        for canonical, term in vocabulary.terms.items():
            for phrase in (canonical, *term.aliases):
                lexicon.add(phrase, name, canonical)
                for suffix in vocabulary.suffixes:
                    lexicon.add(f"{phrase} {suffix}", name, canonical)
            if name == "brands":
                lexicon.add(canonical.replace(" ", ""), name, canonical)
                if "&" in canonical:  # "Jack & Jones" is said "jack and jones"
                    lexicon.add(" and ".join(part.strip() for part in canonical.split("&")), name, canonical)
    return lexicon
