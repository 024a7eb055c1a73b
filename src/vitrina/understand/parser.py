"""Rules-first query understanding: normalise, classify intent, extract typed constraints, expand, split."""

from __future__ import annotations

import re
import unicodedata

from vitrina.index.store import CatalogStats
from vitrina.understand.lexicon import Lexicon, build_lexicon, phrase_key
from vitrina.understand.models import Constraint, Intent, ParsedQuery, PriceRange
from vitrina.understand.price import PriceExtractor
from vitrina.understand.rules import RuleSet

MAX_QUERY_CHARS = 512  # longer input is cut: no shopper types more, and parsing stays bounded
NEGATION_REACH = 3  # a negation governs a term this many tokens after it
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
            "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "last": -1}
_SIZE = re.compile(r"\bsize\s+([a-z0-9]{1,4})\b|\b(xxs|xs|xxl|xxxl|3xl|xl)\b|\b(?:uk|us|eu)\s?(\d{1,2})\b")
_SPLIT_SYMBOLS = re.compile(r"([₹$€£~<>])")
_CLEAN = re.compile(r"[^\w\s₹$€£~<>&/%.,'-]")


def normalize(text: str, typos: dict[str, str]) -> str:
    text = unicodedata.normalize("NFKC", text)[:MAX_QUERY_CHARS]
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = text.lower().replace("’", "'").replace("`", "'")
    text = _SPLIT_SYMBOLS.sub(r" \1 ", _CLEAN.sub(" ", text))
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,500 -> 1500
    text = re.sub(r"(?<!\d)[.,](?!\d)", " ", text)  # sentence punctuation, not decimals
    words = [typos.get(w, w) for w in text.split()]
    return " ".join(words)


class QueryParser:
    def __init__(self, rules: RuleSet, stats: CatalogStats | None = None):
        self.rules = rules
        self.stats = stats or CatalogStats()
        self.lexicon: Lexicon = build_lexicon(rules, self.stats)
        lang = rules.language
        self._stop = set(lang.stopwords)
        self._negations = sorted((phrase_key(n).split() for n in lang.negations), key=len, reverse=True)
        self.prices = PriceExtractor(rules.price_words)
        self._intents = [(Intent(name), re.compile(r"(?<!\w)(?:" + "|".join(
            re.escape(p) for p in sorted(phrases, key=len, reverse=True)) + r")(?!\w)"))
            for name, phrases in rules.intents.items() if phrases]
        order = {Intent.help: 0, Intent.comparison: 1, Intent.outfit: 2, Intent.details: 3}
        self._intents.sort(key=lambda x: order[x[0]])
        self._conjunctions = [phrase_key(c) for c in lang.conjunctions]

    # --- steps ---
    def intent(self, text: str) -> Intent:
        for intent, pattern in self._intents:
            if pattern.search(text):
                return intent
        return Intent.product_search

    def _negation_at(self, tokens: list[str], i: int) -> int:
        for words in self._negations:
            if tokens[i:i + len(words)] == words:
                return len(words)
        return 0

    def parse(self, query: str) -> ParsedQuery:
        normalized = normalize(query, self.rules.language.typos)
        parsed = ParsedQuery(raw=query, normalized=normalized, intent=self.intent(normalized))
        text = normalized
        price = self.prices.extract(text)
        if price:
            parsed.price = price.range
            text = text[:price.span[0]] + " " + text[price.span[1]:]
        for name, span in self.prices.refinements(text):
            parsed.refinements.append(name)
            text = text[:span[0]] + " " * (span[1] - span[0]) + text[span[1]:]
        relative = self.prices.relative(text)
        if relative and parsed.price is None:
            name, span = relative[0]
            parsed.price = PriceRange(source=text[span[0]:span[1]], hard=False)
            parsed.refinements.append(f"relative:{name}")
            text = text[:span[0]] + " " + text[span[1]:]
        parsed.sizes = [next(g for g in m.groups() if g) for m in _SIZE.finditer(text)]
        self._match_terms(phrase_key(text).split(), parsed)
        self.finish(parsed)
        parsed.sub_queries = self._decompose(parsed)
        return parsed

    def _match_terms(self, tokens: list[str], parsed: ParsedQuery) -> None:
        tokens = [t if t in self.lexicon.phrases or t in self._stop else (self.lexicon.correct(t) or t) for t in tokens]
        negate_until = -1
        i = 0
        semantic: list[str] = []
        while i < len(tokens):
            neg = self._negation_at(tokens, i)
            if neg:
                negate_until = i + neg + NEGATION_REACH
                i += neg
                continue
            if tokens[i] in ORDINALS and i + 1 < len(tokens) and tokens[i + 1] in {"one", "item", "product", "pair"}:
                parsed.references.append(ORDINALS[tokens[i]])
                i += 2
                continue
            hit = self.lexicon.lookup(tokens, i)
            if hit is None:
                word = tokens[i]
                if word not in self._stop:  # numbers stay: "0 gauge wire", "22 degree elbow"
                    parsed.keywords.append(word)
                    if i >= negate_until:
                        semantic.append(word)
                i += 1
                continue
            length, entries = hit
            phrase = " ".join(tokens[i:i + length])
            negated = i < negate_until
            for vocabulary, term in self._choose(entries):
                self._add(parsed, vocabulary, term, phrase, negated)
            if negated:
                # One negation covers one term, or a list of them: "no leather or suede".
                nxt = tokens[i + length] if i + length < len(tokens) else ""
                negate_until = i + length + 2 if nxt in {"or", "nor", ","} else -1
            else:
                semantic.append(phrase)
            i += length
        parsed.semantic_text = " ".join(semantic)

    def _choose(self, entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
        # A phrase that names a product type is a category first ("tank", "sandals"), except for brands.
        names = {v for v, _ in entries}
        if "categories" in names and "brands" not in names:
            return [e for e in entries if e[0] == "categories"] + [e for e in entries if e[0] == "genders"]
        return entries

    def _add(self, parsed: ParsedQuery, vocabulary: str, term: str, phrase: str, negated: bool,
             implied: bool = False) -> None:
        vocab = self.lexicon.vocabularies[vocabulary]
        rule = vocab.terms[term]
        if vocabulary == "categories" and not negated:
            for type_name, grade in rule.types.items():
                parsed.types[type_name] = max(parsed.types.get(type_name, 0.0), grade)
        if any(c.vocabulary == vocabulary and c.term == term and c.negated == negated for c in parsed.constraints):
            return
        if vocabulary != "categories" or negated:
            values = sorted(self.lexicon.values(vocabulary, term)) if vocabulary != "categories" else sorted(rule.types)
            parsed.constraints.append(Constraint(vocabulary=vocabulary, field=vocab.field, term=term, values=values,
                                                 negated=negated, implied=implied, source=phrase))
        if not negated:
            for other, targets in rule.implies.items():
                for target in targets:
                    if not any(c.vocabulary == other for c in parsed.constraints if not c.implied):
                        self._add(parsed, other, target, phrase, False, implied=True)

    def finish(self, parsed: ParsedQuery) -> None:
        if not parsed.types:
            # No category word: an occasion's typical product types become the preference.
            for c in parsed.constraints:
                if c.vocabulary == "occasions" and not c.negated:
                    for type_name, grade in self.lexicon.term("occasions", c.term).types.items():
                        if type_name in self.stats.values.get("type", {}) or not self.stats.values:
                            parsed.types[type_name] = max(parsed.types.get(type_name, 0.0), grade)
                            parsed.types_implied = True
        if parsed.price is not None:
            self._resolve_price(parsed)
        # The shopper's own words first, in their order (negated ones excluded), then what rules add.
        expansions: list[str] = [w for w in parsed.semantic_text.split() if w not in self._stop]
        for c in parsed.constraints:
            if not c.negated and not c.implied:
                expansions.append(c.source)
        # BM25 gets the shopper's words plus canonical terms and product types, not every alias:
        # aliases widen recall in the vocabulary match, but as free words they mostly add noise.
        keyword_terms = list(expansions)
        for c in parsed.constraints:
            if not c.negated and not c.implied and c.vocabulary != "genders":
                keyword_terms.append(c.term)
        for type_name, grade in parsed.types.items():
            if grade >= 1 and not parsed.types_implied:
                keyword_terms.append(self.stats.names.get(type_name, type_name).lower())
        for c in parsed.constraints:
            if not c.negated and not c.implied:
                expansions.extend([c.term, *self.lexicon.term(c.vocabulary, c.term).aliases])
        parsed.expansions = list(dict.fromkeys(e for e in [*keyword_terms, *expansions] if e))
        words = [w for e in keyword_terms for w in e.split() if w not in self._stop]
        parsed.keyword_query = " ".join(dict.fromkeys(words))
        if not parsed.semantic_text:
            parsed.semantic_text = parsed.keyword_query or ("" if parsed.negated() else parsed.normalized)

    def _resolve_price(self, parsed: ParsedQuery) -> None:
        price = parsed.price
        catalog_currency = self.stats.currency
        if price.hard:
            price.catalog_min = self.prices.convert(price.min, price.currency, catalog_currency) if price.min else None
            price.catalog_max = self.prices.convert(price.max, price.currency, catalog_currency) if price.max else None
            return
        name = next(r.split(":", 1)[1] for r in parsed.refinements if r.startswith("relative:"))
        rule = self.rules.price_words.relative[name]
        main = max(parsed.types, key=parsed.types.get) if parsed.types else None
        if rule.max_quantile is not None:
            price.catalog_max = self.stats.quantile(rule.max_quantile, main)
        if rule.min_quantile is not None:
            price.catalog_min = self.stats.quantile(rule.min_quantile, main)

    def _decompose(self, parsed: ParsedQuery) -> list[ParsedQuery]:
        """'a jacket and shoes' -> one sub-query per item, sharing gender, price, occasion and negations."""
        text = parsed.normalized
        parts = [text]
        for conj in self._conjunctions:
            parts = [p for part in parts for p in re.split(rf"(?<!\w){re.escape(conj)}(?!\w)", part)]
        parts = [p.strip() for p in parts if p.strip()]
        if len(parts) < 2:
            return []
        subs = []
        for part in parts:
            sub = ParsedQuery(raw=part, normalized=part, intent=parsed.intent)
            self._match_terms(phrase_key(part).split(), sub)
            if not sub.types or sub.types_implied:
                return []  # not a list of items: "black and white shirt"
            subs.append(sub)
        shared = [c for c in parsed.constraints if c.vocabulary in ("genders", "occasions", "seasons") or c.negated]
        for sub in subs:
            own = {(c.vocabulary, c.term, c.negated) for c in sub.constraints}
            sub.constraints.extend(c for c in shared if (c.vocabulary, c.term, c.negated) not in own)
            sub.price = parsed.price
            self.finish(sub)
        return subs
