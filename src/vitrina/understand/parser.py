"""Rules-first query understanding: normalise, classify intent, extract typed constraints, expand, split.

`parse` reads the shopper's words into a QueryDraft; `build` derives the rest and freezes it into a ParsedQuery.
Conversation resolution (converse/) edits drafts of earlier turns and builds them with the same `build`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from vitrina.catalog.stats import SIDES, CatalogStats
from vitrina.understand.lexicon import RELATED, Lexicon, build_lexicon, phrase_key, singular
from vitrina.understand.models import (
    LLM_SOURCE,
    Constraint,
    Intent,
    ParsedQuery,
    PriceRange,
    QueryDraft,
    QueryFields,
)
from vitrina.understand.price import PriceExtractor, alternation
from vitrina.understand.rules import RuleSet, Term
from vitrina.understand.spelling import SpellingCorrector

DEFAULT_MAX_CHARS = 512  # longer input is cut: no shopper types more, and parsing stays bounded
NEGATION_REACH = 3  # a negation governs terms this many tokens after it
LIST_WORDS = {"or", "nor"}  # "no leather or suede": one negation, a list of terms
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
            "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "last": -1}
COMPANY_MARKERS = {"my", "our", "the"}  # "with my kids": whom the shopper goes with follows these
WORN_WITH = ("genders", "occasions", "seasons")  # what a product the shopper has says of what goes with it
COLOURS = "colors"  # the vocabulary whose terms a hue word ("shades") may follow
OCCASIONS = "occasions"  # the vocabulary whose terms a time word ("night") may follow or lead
PLACE_WORDS = {"in", "at", "on"}  # "a weekend in the hills": a time word may lead a setting through these
ARTICLES = {"the", "a", "an"}
_SIZE = re.compile(r"\bsize\s+([a-z0-9]{1,4})\b|\b(xxs|xs|xxl|xxxl|3xl|xl)\b|\b(?:uk|us|eu)\s?(\d{1,2})\b")
_SPLIT_SYMBOLS = re.compile(r"([₹$€£~<>])")
_CHILDREN = ("girl", "girls", "boy", "boys", "kid", "kids", "child", "son", "daughter", "nephew", "niece", "baby",
             "toddler")  # words an age may follow: "a tshirt for a girl, 10 years", "my daughter is 3"
_AFTER_A_CHILD = "(?:" + "|".join(f"(?<=\\b{child} )" for child in _CHILDREN) + ")"
_NOT_A_HEIGHT = r"(?!\s*(?:feet|foot|ft|inch|inches|in|cm|kg|kgs|lbs|'|\.\d))"
# "a 10 year old", "10-year-old", "aged 10", "10 yo": an age in years, never title words ("Ben 10")
_AGE = re.compile(r"\b(\d{1,2})\s*-?\s*(?:years?|yrs?)\s*-?\s*old\b|\b(\d{1,2})\s*(?:yo|y/o)\b|\baged\s+(\d{1,2})\b"
                  # a decade of life: "in her twenties", "in his early 30s", "a thirty-something"
                  r"|\bin\s+(?:his|her|their|my|your|our)\s+(?:early\s+|mid\s+|late\s+)?(twenties|thirties|forties|"
                  r"fifties|sixties|seventies|eighties|[2-8]0s)\b"
                  r"|\b(twenty|thirty|forty|fifty|sixty|[2-6]0)\s*-?\s*somethings?\b"
                  # said of someone: "my nephew who is 7", "he's 12", "she is turning 30" (not "he is 6 feet")
                  r"|\b(?:he's|she's|hes|shes|he is|she is|who is|who's|whos|turning|turns|turned)\s+(?:turning\s+)?"
                  r"(\d{1,2})\b" + _NOT_A_HEIGHT
                  # years said right after a child ("a tshirt for a girl, 10 years", "boys 8 yrs"), or with "is",
                  # or a bare number ending the query ("pyjamas for my son, 7")
                  + r"|" + _AFTER_A_CHILD + r"(\d{1,2})\s*(?:years?|yrs?)\b|" + _AFTER_A_CHILD + r"is\s+(\d{1,2})\b"
                  + _NOT_A_HEIGHT + r"|" + _AFTER_A_CHILD + r"(\d{1,2})\s*$")
_DECADES = {"twenty": 20, "twenties": 20, "thirty": 30, "thirties": 30, "forty": 40, "forties": 40, "fifty": 50,
            "fifties": 50, "sixty": 60, "sixties": 60, "seventies": 70, "eighties": 80}

KIDS_UP_TO, ADULT_FROM = 12, 18  # the ages kidswear is sized for; between them a teenager shops both sides
YEARS = " years"  # what an age said ends in, as the source of what it implies
_SPEAKER = {"i", "i'm", "im", "i'll", "i've", "ive", "i'd", "me", "myself"}  # the one asking, said of themself
# words before "girl" that make her someone else: "a girl", "my girl", "for girls", "little girl"
_OF_ANOTHER = {"a", "an", "the", "my", "our", "your", "his", "her", "their", "for", "to", "with", "of", "and", "or",
               "this", "that", "every", "each", "young", "little", "baby", "toddler", "teen", "teenage", "school"}
_I_WEAR = re.compile(r"\bi (?:\w+ )?wear\b")  # the shopper asks what they wear: "what do i wear", "i should wear"
# what another wears: "what should my husband wear", "what can a 5 year old boy wear"
_ANOTHER_WEARS = re.compile(r"\b(?:should|does|do|can|could|would|will|shall)\s+((?:\w+\s+){1,4}?)wear\b")
_SIGNED = re.compile(r",\s*([a-z']+)\s*[.!?]*\s*$")  # the word a question is signed with: "..., girl"
_WHOSE = {"my", "his", "her", "our", "their", "your", "the", "a", "an"}  # before a person written as an owner
_BEFORE_WHO = {"a", "an", "the", "her", "his", "their", "your", "elder", "older", "younger", "big", "little", "only"}
_ARTICLES = {"a", "an", "any", "the"}
_FOR = re.compile(r"(?<!\w)for(?!\w)")
_WITH = re.compile(r"(?<!\w)with(?!\w)")
_CLEAN = re.compile(r"[^\w\s₹$€£~<>&/%.,'-]")


def _years(found: re.Match[str]) -> int:
    """The age a match of _AGE says, a decade by its first year."""
    said = next(g for g in found.groups() if g)
    return int(said.rstrip("s")) if said[0].isdigit() else _DECADES[said]


def normalize(text: str, typos: dict[str, str], max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Unicode-folded, lower-cased, control characters and stray punctuation out, numbers joined, typos fixed."""
    text = unicodedata.normalize("NFKC", text)[:max_chars]
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = text.lower().replace("’", "'").replace("`", "'")
    text = _SPLIT_SYMBOLS.sub(r" \1 ", _CLEAN.sub(" ", text))
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,500 -> 1500
    text = re.sub(r"(?<!\d)[.,](?!\d)", " ", text)  # sentence punctuation, not decimals
    words = [typos.get(w, w) for w in text.split()]
    return " ".join(words)


def _any_phrase(phrases: list[str]) -> re.Pattern[str] | None:
    """Any of the phrases as whole words, the longest first; None where there are none."""
    return re.compile(r"(?<!\w)(?:" + alternation(phrases) + r")(?!\w)") if phrases else None


def _by_first_word(phrases: list[str]) -> dict[str, list[list[str]]]:
    """Phrases as word lists, filed under their first word, the longest first: a word none starts with costs one
    lookup on the parse's hot path."""
    filed: dict[str, list[list[str]]] = {}
    for words in sorted((phrase_key(p).split() for p in phrases), key=len, reverse=True):
        if words:
            filed.setdefault(words[0], []).append(words)
    return filed


def _phrase_at(phrases: dict[str, list[list[str]]], tokens: list[str], i: int) -> int:
    """The length of the longest of the phrases (_by_first_word) that starts at i; 0 where none."""
    for words in phrases.get(tokens[i], ()):
        if tokens[i:i + len(words)] == words:
            return len(words)
    return 0


def _raw_words(raw: str) -> list[str]:
    """The shopper's words as typed, lower-cased, with the punctuation around them cut ("sister’s," -> "sister's")."""
    return [w.strip(".,!?;:") for w in raw.lower().replace("\u2019", "'").split()]


def owners_written(raw: str, sources: list[str]) -> set[str]:
    """The sources the shopper wrote as someone's, in the possessive ("my sister's wedding"; "my girlfriends":
    "girlfriend's"): whose something is, not who wears it. A side's own name is a kind of wear ("men's instead")."""
    words = _raw_words(raw)
    owned = {w for at, w in enumerate(words) if at > 0 and words[at - 1] in _WHOSE}
    return {s for s in sources if s and any(f"{w}'s" in owned or f"{w}'" in owned
                                             for w in {s.split()[-1], singular(s.split()[-1])})}


def _said_of_self(words: list[str], source: str) -> bool:
    """Whether the shopper says they are the one `source` names: "i'm her brother", "i am the bride's sister"."""
    first = source.split()[0]
    for at in (i for i, w in enumerate(words) if w == first):
        before = at
        while before > 0 and at - before < 2 and (words[before - 1] in _BEFORE_WHO or words[before - 1].endswith("'s")):
            before -= 1
        if before > 0 and (words[before - 1] in ("i'm", "im") or words[before - 2:before] == ["i", "am"]):
            return True
    return False


def _cut(text: str, span: tuple[int, int]) -> str:
    return text[:span[0]] + " " * (span[1] - span[0]) + text[span[1]:]


class QueryParser:
    """The rules of one domain, plus the catalog's own types, brands and words, applied to query text."""
    def __init__(self, rules: RuleSet, stats: CatalogStats | None = None, max_chars: int = DEFAULT_MAX_CHARS,
                 slot_of: Callable[[str], str | None] | None = None):
        self.rules = rules
        self.stats = stats or CatalogStats()
        self.max_chars = max_chars
        # Where on an outfit a type is worn (the domain's outfit slots), if the domain has them: a type named
        # after "with" that fills the same place is a kind of the find ("sandals with a heel"), not what comes with it
        self.slot_of = slot_of
        self.lexicon: Lexicon = build_lexicon(rules, self.stats)
        self._type_words = {w for name in self.stats.values.get("type", {}) for w in name.split()}
        colours = self.lexicon.vocabularies.get(COLOURS)
        self._colour_words = {p for t, term in colours.terms.items() for p in [t, *term.aliases] if " " not in p} \
            if colours else set()
        # the words of an outfit request itself ("outfit", "look", "wear"): no setting
        self._request_words = {w for p in rules.intents.get(Intent.outfit.value, []) for w in phrase_key(p).split()}
        lang = rules.language
        self._stop = set(lang.stopwords)
        self._negations = _by_first_word([*lang.negations, *lang.aversions])
        self._aversion = _any_phrase([phrase_key(n) for n in lang.aversions])
        self._lacks = _by_first_word(lang.lacks)
        self._hue_words = {phrase_key(w) for w in lang.hue_words}
        self._occasion_times = {phrase_key(w) for w in lang.occasion_times}
        self._fillers = {phrase_key(w) for w in lang.fillers}
        self._negations_after = {phrase_key(n) for n in lang.negations_after}
        # A negation that ends a clause points back, not forward ("a watch that looks expensive but isn't, men");
        # "no. 7" is a number
        self._dangling = re.compile(r"(?<![\w'])(?:" + alternation(lang.negations) + r")(?=\s*(?:[,;!?]|\.(?!\s*\d)|$))",
                                    re.IGNORECASE) if lang.negations else None
        # Matched in the normalized text (which keeps hyphens), so keyed as it writes them
        self._compared = {" ".join(phrase.lower().split()): canonical for vocabulary in rules.vocabularies.values()
                          for canonical, term in vocabulary.terms.items() for phrase in term.compared}
        self._comparison = re.compile(r"(?<![\w'])(?:" + alternation(list(self._compared)) + r")(?![\w'])"
                                      ) if self._compared else None
        self._qualifiers = set(lang.qualifiers)
        self._brand_before, self._brand_after = set(lang.brand_markers_before), set(lang.brand_markers_after)
        self._person_markers = set(lang.person_markers)
        # "my teacher", "my new boss": a role after a person marker, a word of its own between them or not
        roles, markers = [phrase_key(r) for r in lang.roles], sorted(self._person_markers)
        self._role_named = re.compile(fr" (?:{alternation(markers)}) (?:\w+ )?({alternation(roles)})(?= )"
                                      ) if roles and markers else None
        self._roles = set(roles)
        self._interests = [phrase_key(w) for w in lang.interests]
        self._pronouns = set(lang.pronouns)
        occasions = self.lexicon.vocabularies.get("occasions")
        self._person_alone = lang.person_alone if occasions and lang.person_alone in occasions.terms else None
        # season -> the needs that imply it ("winter": winter wear), which say what a kind worn in it must be (not
        # a time of year: "in december" says when)
        self._season_needs: dict[str, list[str]] = {}
        for name, term in (occasions.terms.items() if occasions else ()):
            for season in term.implies.get("seasons", []) if term.need and not term.when else []:
                self._season_needs.setdefault(season, []).append(name)
        self._prefixes = {phrase_key(n) for n in lang.negation_prefixes}
        self.prices = PriceExtractor(rules.price_words)
        # The negation words are known too: "aren't" is keyed "arent", which is one letter from "agent".
        negation_words = {w for filed in self._negations.values() for words in filed for w in words}
        self.speller = SpellingCorrector(self.stats.words, {*self.lexicon.words(), *self._stop, *negation_words})
        self._intents = [(Intent(name), pattern) for name, phrases in rules.intents.items()
                         if (pattern := _any_phrase(phrases)) is not None]
        order = {Intent.help: 0, Intent.comparison: 1, Intent.outfit: 2, Intent.details: 3}
        self._intents.sort(key=lambda x: order[x[0]])
        # An outfit's requests ("style me", "what should i pack"): words of the asking, not of the find. A word
        # alone ("outfit") names the find, clothes; a phrase with a word the rules know ("clothes for a") is read
        # as the rules read it
        instructions = [p for p in rules.intents.get(Intent.outfit.value, []) if len(phrase_key(p).split()) > 1
                        and not any(w in self.lexicon.phrases for w in phrase_key(p).split())]
        self._instructions = _any_phrase(instructions)
        self._conjunctions = [phrase_key(c) for c in lang.conjunctions]
        genders = self.lexicon.vocabularies.get("genders")
        self._gender_terms = set(genders.terms) if genders else set()
        self._complement = _any_phrase(lang.complements)
        self._beneath = {phrase_key(w) for w in lang.beneath}
        self._possession = _any_phrase(lang.possession)

    @property
    def stopwords(self) -> set[str]:
        return self._stop

    # --- steps ---
    def intent(self, text: str) -> Intent:
        for intent, pattern in self._intents:
            if any(not self._inside_term(text, found) for found in pattern.finditer(text)):
                return intent
        return Intent.product_search

    def _inside_term(self, text: str, found: re.Match[str]) -> bool:
        """Whether a phrase found in the text is part of a longer rule term ("shoes that go with everything":
        neutral colours, not what the shopper has nor a request for an outfit)."""
        said, words = found.group(0).split(), phrase_key(text[found.start():]).split()
        i = 0
        while i < len(said):  # read as the terms are matched, longest first from the left
            term = self.lexicon.lookup(words, i)
            if term is not None and i + term[0] > len(said):
                return True
            i += term[0] if term is not None else 1
        return False

    def _compound_at(self, tokens: list[str], i: int, neg: int) -> bool:
        """Whether the negation at i is a prefix of the next word, a word no rule knows."""
        if neg != 1 or tokens[i] not in self._prefixes or i + 1 >= len(tokens):
            return False
        word = tokens[i + 1]
        return word not in self._stop and self.lexicon.lookup(tokens, i + 1) is None

    def _brand_named(self, tokens: list[str], i: int) -> bool:
        """Whether the word at i is named as a brand: "from only", "only brand"."""
        return (i > 0 and tokens[i - 1] in self._brand_before) or (
            i + 1 < len(tokens) and tokens[i + 1] in self._brand_after)

    def _person_at(self, tokens: list[str], i: int, length: int, owners: frozenset[str] = frozenset()) -> bool:
        """Whether the words at i name a person ("for my boss", "my new boss, men", "at my boss's house": `owners`,
        the words the shopper wrote as possessives), not the brand of that name ("my boss perfume")."""
        after = i + length
        alone = after >= len(tokens) or tokens[after] in self._stop or self._names_at(tokens, after, "genders") or (
            tokens[after - 1] in owners)
        role = " ".join(tokens[i:i + length]) in self._roles  # a role may have a word of its own before it
        return alone and not self._person_markers.isdisjoint(tokens[max(0, i - (2 if role else 1)):i])

    def _owner_of_another(self, tokens: list[str], i: int, length: int, owners: frozenset[str]) -> bool:
        """Whether the person named at i is written as the owner of another ("my son's teacher", "my wife's
        brother"): the other is whom the find is for."""
        phrase = " ".join(tokens[i:i + length])
        after = i + length
        return (phrase in owners or phrase.removesuffix("s") in owners) and (
            any(" ".join(tokens[after:after + n]) in self._roles for n in (1, 2))
            or self._names_at(tokens, after, "genders"))

    def _rule_phrase_at(self, tokens: list[str], i: int, neg: int) -> bool:
        """Whether a rule names a phrase that starts with the negation at i and goes on past it."""
        found = self.lexicon.lookup(tokens, i)
        return found is not None and found[0] > neg

    def _negation_at(self, tokens: list[str], i: int) -> int:
        return _phrase_at(self._negations, tokens, i)

    def _names_at(self, tokens: list[str], i: int, vocabulary: str, alone: bool = False) -> bool:
        """Whether the words at i name a term of `vocabulary` (`alone`: and of no other vocabulary)."""
        found = self.lexicon.lookup(tokens, i) if i < len(tokens) else None
        names = [v == vocabulary for v, _ in found[1]] if found else []
        return bool(names) and (all(names) if alone else any(names))

    def _time_word(self, word: str, found: tuple[int, list[tuple[str, str]]] | None) -> bool:
        """Whether `word` is a time word alone (`found`: the lexicon's phrase where it stands), not the start of a
        phrase of its own ("a cold evening out")."""
        return word in self._occasion_times and (found is None or found[0] == 1)

    @staticmethod
    def _past_place_words(tokens: list[str], i: int) -> int:
        """Where a setting starts after "in", "at" or "on" and an article, if they stand at i ("a day at the
        beach"); else i."""
        if i < len(tokens) and tokens[i] in PLACE_WORDS:
            i += 1
            if i < len(tokens) and tokens[i] in ARTICLES:
                i += 1
        return i

    def _hue_at(self, tokens: list[str], i: int, length: int) -> int:
        """How many words after the colour at i say only that it is a colour: "in nude shades" (after "in"); never
        "black shades", which names sunglasses ("shades of pink", before the colour, is read where it starts)."""
        after = tokens[i + length] if i + length < len(tokens) else ""
        return 1 if after in self._hue_words and i > 0 and tokens[i - 1] == "in" else 0

    def parse(self, query: str) -> ParsedQuery:
        """One query's words, understood and built (no conversation: see converse/resolve.py)."""
        return self.build(self.draft(query))

    def draft(self, query: str, carried: frozenset[str] = frozenset()) -> QueryDraft:
        """The shopper's words read into constraints, types, price and keywords; nothing derived yet. `carried`: the
        types a conversation carries, so a turn that opens with a complement phrase names only what they have, and
        one that rules out another name of them rules out that kind ("heels", then "no wedges")."""
        said = query.replace("’", "'")
        normalized = normalize(self._dangling.sub(" ", said) if self._dangling else said, self.rules.language.typos,
                               self.max_chars)
        if self._comparison:  # "something less formal" asks for casual wear
            normalized = self._comparison.sub(lambda m: self._compared[m.group(0)], normalized)
        draft = QueryDraft(raw=query, normalized=normalized, intent=self.intent(normalized))
        text = normalized
        ages = [_years(m) for m in _AGE.finditer(text)]
        text = _AGE.sub(lambda m: " " * len(m.group(0)), text)
        price = self.prices.extract(text)
        if price:
            draft.price = price.range
            text = _cut(text, price.span)
        for kind, name, span in self.prices.price_words(text):
            text = _cut(text, span)
            if kind == "refinement":
                draft.refinements.append(name)
            elif draft.price is None:
                draft.price = PriceRange(source=normalized[span[0]:span[1]], hard=False, relative=name)
        said_sizes = list(_SIZE.finditer(text))
        draft.sizes = [next(g for g in m.groups() if g) for m in said_sizes]
        if self.stats.values.get("sizes"):  # a catalog of sizes reads "size 6" as one, not as title words
            for m in said_sizes:
                text = _cut(text, m.span())
        complement = self._complement_phrase(text)
        text, has, beneath = self._complemented(text, complement, bool(carried))
        at = None if has or draft.intent != Intent.product_search else self._comes_with(text, carried)
        text, comes_with = (text, "") if at is None else (text[:at], text[at:])
        if draft.intent == Intent.outfit and self._instructions:
            text = self._instructions.sub(lambda m: " " * len(m.group(0)), text)
        self._match_terms([w for w in phrase_key(text).split() if w not in self._fillers], draft, carried)
        if comes_with:  # searched as its words: titles say it ("Churidar Kurta with Dupatta")
            words = [w for w in phrase_key(comes_with).split() if w not in self._stop]
            draft.keywords.extend(words)
            draft.semantic_text = " ".join([draft.semantic_text, *words]).strip()
        if has:
            self._carry_what_they_have(has, draft, beneath)
        elif self._complement_phrase(text) and draft.types and draft.intent == Intent.product_search:
            draft.intent = Intent.outfit  # "what can i wear with chinos": what goes with what they name
        self._pronouns_refer(draft)
        if not carried:
            self._for_someone(draft)
        if ages:
            self._of_age(draft, ages[0])
        self._yield_to_what_was_said(draft)
        draft.sub_queries = self._decompose(draft, text)
        return draft

    def _complemented(self, text: str, found: re.Match[str] | None,
                      carried: bool = False) -> tuple[str, str, bool]:
        """'shoes to go with a saree': the words before a complement phrase name what to find, those after it what
        the shopper has, where the words before name a type (or say nothing, after a turn that named it: "a
        dupatta", then "to go with a white kurta"); else it is one request ("what goes with jeans"). `found`: the
        text's complement phrase (_complement_phrase), found once by the caller. Last, whether the find is worn
        unseen beneath what they have ("a vest to wear under a kurta"; a shirt under a blazer is seen)."""
        if found is None:
            return (*(self._possessed(text) or self._for_what_they_have(text, carried)), False)
        head, said = text[:found.start()], found.group(0).split()
        beneath = not self._beneath.isdisjoint(said)
        wanted = self._types_named(head)
        named = self.lexicon.lookup(said, 0)
        if not wanted and named is not None and named[0] == len(said):
            head = text[:found.end()]  # "something to wear under a shirt": the phrase itself names what to find
            instead = self._instead_beneath(named[1], text[found.end():])
            if instead:
                head, beneath = f"{text[:found.start()]} {instead}", False
            wanted = self._types_named(head)
        if wanted or (carried and all(w in self._stop for w in phrase_key(head).split())):
            return head, text[found.end():], beneath
        return text, "", False

    def _complement_phrase(self, text: str) -> re.Match[str] | None:
        """The first complement phrase ("to go with"), unless it is part of a longer term ("shoes that go with
        everything": neutral colours, not what the shopper has)."""
        found = self._complement.search(text) if self._complement else None
        return None if found is None or self._inside_term(text, found) else found

    def _possessed(self, text: str) -> tuple[str, str] | None:
        """'i have a black dress, which shoes': the words after a possession phrase, up to the first kind they name,
        are what the shopper has, where only small words and a kind's properties (its colour, fabric, brand) come
        before it; the others what to find, where they name a kind too. "i have a job interview", "i have a wedding,
        need a dress and shoes" and "i have to buy a dress" say nothing the shopper has."""
        found = self._possession.search(text) if self._possession else None
        words = phrase_key(text[found.end():]).split() if found else []
        if found is None or words[:1] == ["to"]:
            return None
        i = 0
        while i < len(words):
            term = self.lexicon.lookup(words, i)
            length = term[0] if term else 1
            if term and self._types_named(" ".join(words[i:i + length])):
                head = f"{text[:found.start()]} {' '.join(words[i + length:])}"
                return (head, " ".join(words[:i + length])) if self._types_named(head) else None
            setting = term is not None and any(vocabulary == "occasions" for vocabulary, _ in term[1])
            unknown = term is None and words[i] not in self._stop and not words[i].isdigit()
            if setting or unknown:
                return None  # a setting or a word no rule knows comes first: not a thing the shopper has
            i += length
        return None

    def _for_what_they_have(self, text: str, carried: bool) -> tuple[str, str]:
        """'a belt for formal trousers', 'socks for sports shoes': where the words after "for" name a type as those
        before it do (or a turn before did), the first is what to find and the second what the shopper has; "shirts
        for men" and "shoes for running" name no second type."""
        found = _FOR.search(text)
        if found is None or self._inside_term(text, found):  # "a watch for swimming": one term
            return text, ""
        head, tail = text[:found.start()], text[found.end():]
        had = self._types_named(tail)  # most often none ("shirts for men"): the words before are not read then
        words = phrase_key(tail).split()
        whom, alternative, _ = " ".join(words).partition(" or ")
        if not had or (alternative and not self._types_named(whom)):
            return text, ""  # "a pen set for dad or a wallet": another find he may be given, not one he has
        first_kind = next((i for i in range(len(words)) if self._names_at(words, i, "categories")), len(words))
        if any(self._negation_at(words, i) for i in range(first_kind)):
            return text, ""  # "formal shoes for women, nothing with a high heel": what the find is not
        wanted = self._types_named(head)
        said_before = carried and all(w in self._stop for w in phrase_key(head).split())
        # "a bag for my laptop": a laptop bag is one of the bags, so the words say which bag, not what they have
        if (said_before or wanted) and wanted.isdisjoint(had):
            return head, tail
        return text, ""

    def _pronouns_refer(self, draft: QueryDraft) -> None:
        """"my son needs something for his school": "his" is the son, not a man; a pronoun says the side (and its
        age) only where no other word names the person."""
        said = [c for c in draft.constraints if c.vocabulary == "genders" and not c.negated and not c.implied]
        if any(c.source not in self._pronouns for c in said):
            pronouns = {c.source for c in said if c.source in self._pronouns}
            draft.constraints = [c for c in draft.constraints if c.source not in pronouns]

    def refer_back(self, draft: QueryDraft, state: QueryFields) -> None:
        """"a gift for a 10 year old girl", then "she loves pink" or "she's 6": a later turn's pronoun, or an age said
        alone, is of the one named before, where the side agrees; it says nothing new of who they are."""
        said = [c for c in draft.positive("genders") if not c.implied]
        before = [c for c in state.positive("genders") if not c.implied and c.source not in self._pronouns]
        aged = {c.source for c in said if c.source.endswith(YEARS)}
        pronouns = [c for c in said if c.source in self._pronouns]
        referring = aged | {p.source for p in pronouns}
        if before and all(c.source in referring for c in said):
            self._grown_to_a_teen(draft, before)
        if not said or not before or any(c.source not in referring for c in said):
            return
        if pronouns and not all(any(side & set(c.values) and side & set(p.values) for p in pronouns for side in SIDES)
                                for c in before):
            return  # "she" after "for my son": someone else
        draft.constraints = [c for c in draft.constraints if c.source not in referring
                             or (c.source in aged and c.vocabulary != "genders")]

    def _grown_to_a_teen(self, draft: QueryDraft, before: list[Constraint]) -> None:
        """"for my son", then "he's 15": a teenager, who shops a boy's and a man's wear (`_of_age` within one turn)."""
        years = [_years(m) for m in _AGE.finditer(draft.normalized)]
        if not years or not all(KIDS_UP_TO < y < ADULT_FROM for y in years):
            return
        for c in before:
            teen = self._teen_term(c.term)
            if teen:
                self.add_constraint(draft, "genders", teen, c.source, False)
                # a turn of an age alone: the encoder reads whom it is of, not "he's 15"
                draft.semantic_text = draft.semantic_text or c.source

    def _teen_term(self, gender: str) -> str | None:
        """The rules' teenage term of a side ("boys": "teen boys"), if they have one."""
        genders = self.lexicon.vocabularies.get("genders")
        teen = f"teen {gender}"
        return teen if genders and teen in genders.terms else None

    def _for_someone(self, draft: QueryDraft) -> None:
        """"something for my dad": a person named after "my" with nothing asked of the find (no kind, no setting, no
        other word, no kind carried from a turn before) is someone to give it to, so the search asks for what is
        given to that side. A budget says what it may cost, not what it is ("something for my wife under 1000").
        A person named by role ("my teacher") is such a person too, of no side, and their role no title word."""
        roles = self._roles_named(draft)
        role_words = {w for r in roles for w in r.split()}
        draft.keywords = [w for w in draft.keywords if w not in role_words]
        people = [c for c in draft.positive("genders") if not c.implied]
        said = f" {phrase_key(draft.normalized)} "
        # "for my dad who likes to travel": the setting said is what they like, not where the find is worn
        likes = any(f" {w} " in said for w in self._interests)
        if (self._person_alone is None or not (people or roles) or draft.types or draft.keywords
                or (not likes and any(c.vocabulary not in ("genders", "ages") for c in draft.constraints))):
            return
        # a side said beside a role is that person's ("something for my colleague, women")
        if roles or all(any(f" {m} {c.source} " in said for m in self._person_markers) for c in people):
            source = people[0].source if people else roles[0]
            # beside what they like, as if said: an implied term would yield to the setting said
            self.add_constraint(draft, "occasions", self._person_alone, source, False, implied=not likes)

    def _roles_named(self, draft: QueryDraft) -> list[str]:
        """The roles named as persons ("my teacher", "my new boss"): whom the find is for, so no title word; their
        meaning stays in the encoder's text (what a mentor is given)."""
        if self._role_named is None:
            return []
        return [m.group(1) for m in self._role_named.finditer(f" {phrase_key(draft.normalized)} ")]

    def _of_age(self, draft: QueryDraft, years: int) -> None:
        """An age said in years: a child's or a grown-up's wear; a teenager's a boy's or a man's ("a 15 year old
        boy": the teen boys' term, where the rules have it)."""
        genders = self.lexicon.vocabularies.get("genders")
        if KIDS_UP_TO < years < ADULT_FROM:
            for c in [c for c in draft.constraints if c.vocabulary == "genders" and not c.negated]:
                teen = self._teen_term(c.term)
                if teen:
                    draft.constraints = [d for d in draft.constraints if d is not c and not (
                        d.vocabulary == "ages" and d.implied)]
                    self.add_constraint(draft, "genders", teen, c.source, False)
            return
        if years <= KIDS_UP_TO and genders and "kids" in genders.terms and not any(
                c.vocabulary == "genders" for c in draft.constraints):
            self.add_constraint(draft, "genders", "kids", f"{years}{YEARS}", False)  # "shoes for my 5 yo": kids'
        age = "kids" if years <= KIDS_UP_TO else "adult"
        if "ages" in self.lexicon.vocabularies and age in self.lexicon.vocabularies["ages"].terms and not any(
                c.vocabulary == "ages" and not c.implied for c in draft.constraints):
            draft.constraints = [c for c in draft.constraints if c.vocabulary != "ages"]
            # missed in full as said, but not searched for: titles do not print ages ("Ben 10" is no age)
            self.add_constraint(draft, "ages", age, f"{years}{YEARS}", False, implied=True, defining=True)

    def _comes_with(self, text: str, carried: frozenset[str]) -> int | None:
        """Where the words start that say what comes with the find, not a second find: 'a kurta with dupatta', 'a
        skirt with a belt' (after "with", a type other than the one asked for before them, or by a turn before: "with
        a dupatta"). "shoes with heels" names a kind of shoes, as "sandals with a heel" does (a type of the same slot,
        where the domain has outfit slots): one find, None."""
        found = _WITH.search(text)
        if found is None or self._inside_term(text, found) or self._complement_phrase(text):
            return None
        head, tail = text[:found.start()], text[found.end():]
        if self._negation_at([*phrase_key(head).split()[-1:], "with"], 0) == 2:
            return None  # "nothing with a high heel": what the find is not
        had = self._types_named(tail)
        if not had:
            return None
        wanted = self._types_named(head)
        if not wanted and all(w in self._stop for w in phrase_key(head).split()):
            wanted = set(carried)
        comes_with = wanted and wanted.isdisjoint(had) and not self._worn_in_one_place(wanted, had)
        return found.start() if comes_with else None

    def _worn_in_one_place(self, some: set[str], others: set[str]) -> bool:
        if self.slot_of is None:
            return False
        places = {self.slot_of(t) for t in some} - {None}
        return bool(places & {self.slot_of(t) for t in others})

    def _types_named(self, words: str, first: bool = False) -> set[str]:
        """The product types the words name themselves (not those a need or an occasion implies); `first`: only
        those they ask for first, not the related ones."""
        probe = QueryDraft(raw=words, normalized=words, intent=Intent.product_search)
        self._match_terms(phrase_key(words).split(), probe)
        if probe.types_implied:
            return set()
        return {t for t, grade in probe.types.items() if grade >= 1 or not first}

    def _instead_beneath(self, entries: list[tuple[str, str]], had: str) -> str | None:
        """The term that a phrase naming the find ("to wear under") is beneath what the shopper has, where a rule
        says it ("under a blazer": a shirt or a top, where "under a shirt" is a vest); None where none does."""
        kinds = self._types_named(had, first=True)
        for vocabulary, name in entries:
            for over, instead in self.lexicon.term(vocabulary, name).when_beneath.items():
                if kinds and kinds <= set(self.lexicon.term(vocabulary, over).types):
                    return instead
        return None

    def _carry_what_they_have(self, has: str, draft: QueryDraft, beneath: bool = False) -> None:
        """What the shopper has tells whom and what the find is for (a saree: a woman's), never its type or colour;
        and the request is a search for the type named, not a whole outfit. What is worn beneath it is not seen, so
        its setting says nothing of the find's kind (a vest under a kurta is a vest, not a Nehru waistcoat)."""
        worn = QueryDraft(raw=has, normalized=has, intent=draft.intent)
        self._match_terms(phrase_key(has).split(), worn)
        said = {c.vocabulary for c in draft.constraints}
        draft.constraints.extend(c.model_copy(update={"implied": True}) for c in worn.constraints
                                 if c.vocabulary in WORN_WITH and c.vocabulary not in said and not c.negated)
        named = [t for t, grade in worn.types.items() if grade >= 1]
        # whose side, not whose age: "jewellery for a lehenga" is a woman's though the shop sells lehengas to girls
        whose = self.stats.gender_of(named)
        whose = self._grown_up(whose) if whose else None
        # not where the find is a kind sold to the other side ("a cami top for under a sheer shirt": hers)
        asked = self.stats.gender_of([t for t, grade in draft.types.items() if grade >= 1]) if draft.types else None
        if asked and self._grown_up(asked) != whose:
            whose = None
        if not any(c.vocabulary == "genders" for c in draft.constraints) and whose in self._gender_terms:
            self.add_constraint(draft, "genders", whose, has, False, implied=True)  # the catalog's: a dress, a woman's
        # An occasion said of it ("a formal suit") narrows the find as the catalog's occasion of its type would; a
        # need said beside it ("over a kurti when it's cold") is the find's, and narrows nothing here
        worn_for = None if "occasions" in said else next(
            (c.term for c in worn.constraints if c.vocabulary == "occasions" and not c.implied and not c.negated
             and not self.lexicon.term("occasions", c.term).need), None)
        if worn_for is None and not any(c.vocabulary == "occasions" for c in draft.constraints):
            worn_for = self.occasion_term(self.stats.occasion_of(named))
            if worn_for:
                self.add_constraint(draft, "occasions", worn_for, has, False, implied=True)  # a suit: formal
        if worn_for and not beneath:
            draft.types = self.narrowed(draft.types, worn_for)  # "a jacket for a kurta": a Nehru jacket
        if whose:
            draft.types = self.favouring(draft.types, whose)
        draft.intent = Intent.product_search

    def occasion_term(self, occasion: str | None) -> str | None:
        """The occasions vocabulary's term for a catalog occasion (CatalogStats.occasion_of: "formal"), if it has one."""
        return next((term for vocabulary, term in self.lexicon.phrases.get(occasion or "", [])
                     if vocabulary == "occasions"), None)

    def occasion_constraint(self, term: str, source: str) -> Constraint:
        """An occasion implied by `source` (what the shopper has), as a constraint of its own."""
        draft = QueryDraft(raw=source, normalized=source, intent=Intent.product_search)
        self.add_constraint(draft, "occasions", term, source, False, implied=True)
        return next(c for c in draft.constraints if c.vocabulary == "occasions")

    def _spelled(self, tokens: list[str], draft: QueryDraft) -> list[str]:
        out = []
        for token in tokens:
            # a known word's plural or possessive ("wife's": "wifes") is no typo: the lookup reads its singular
            known = token in self.lexicon.phrases or singular(token) in self.lexicon.phrases or token in self._stop
            fixed = None if known else self.speller.correct(token)
            if fixed:
                draft.corrections[token] = fixed
            elif token.isalpha() and token not in self._stop and not self.speller.known(token):
                draft.unknown.append(token)
            out.append(fixed or token)
        return out

    def _match_terms(self, tokens: list[str], draft: QueryDraft, carried: frozenset[str] = frozenset()) -> None:
        tokens = self._spelled(tokens, draft)
        negate_until = -1
        negated_words = 0  # content words read since the last negation
        i = 0
        semantic: list[str] = []
        asked_types: set[str] = set(carried)  # the product types asked for so far (carried, then named) name first
        owners = frozenset(w[:-2] for w in _raw_words(draft.raw) if w.endswith("'s"))
        # where the last kind named ends; the types it asks for first, and those it alone added
        kind_end, modifier = -1, (set[str](), set[str]())
        while i < len(tokens):
            lack = _phrase_at(self._lacks, tokens, i)
            if lack:  # "i have nothing to wear to sleep": what they lack is what they ask for
                negate_until = -1
                i += lack
                continue
            if tokens[i] in self._hue_words and tokens[i + 1:i + 2] == ["of"] \
                    and self._names_at(tokens, i + 2, COLOURS):
                i += 2  # "shades of pink": the colour follows
                continue
            neg = self._negation_at(tokens, i)
            if neg and self._rule_phrase_at(tokens, i, neg):
                neg = 0  # "no laces", "without laces": a rule's own phrase (slip-on), not a negation of laces
            if neg and self._compound_at(tokens, i, neg):
                # "non-slip", "non-stick": a prefix before a word no rule knows makes the compound titles print
                draft.keywords.extend(tokens[i:i + 2])
                semantic.append(" ".join(tokens[i:i + 2]))
                i += 2
                continue
            if neg:
                negate_until, negated_words = i + neg + NEGATION_REACH, 0
                i += neg
                continue
            if tokens[i] in ORDINALS and i + 1 < len(tokens) and tokens[i + 1] in {"one", "item", "product", "pair"}:
                draft.references.append(ORDINALS[tokens[i]])
                i += 2
                continue
            hit = self.lexicon.lookup(tokens, i)
            if i >= negate_until and self._time_word(tokens[i], hit) \
                    and self._names_at(tokens, self._past_place_words(tokens, i + 1), OCCASIONS, alone=True):
                i += 1  # "a night party", "an evening reception", "a weekend in the hills": when the setting is
                continue
            if hit is None:
                word = tokens[i]
                if word not in self._stop:  # numbers stay: "0 gauge wire", "22 degree elbow", "no. 7"
                    if i < negate_until and word.isalpha():
                        # The word a negation rules out that no vocabulary knows ("not digital", "not ripped or
                        # faded"): never searched for or boosted; titles that say it rank lower. Words after it
                        # are the shopper's again ("not flashy shoes" asks for shoes).
                        draft.excluded.append(word)
                        negated_words += 1
                        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
                        negate_until = i + 3 if nxt in LIST_WORDS else -1
                    else:
                        negate_until = -1  # "no. 30 ridgid wheel": a number is not ruled out, nor what follows
                        draft.keywords.append(word)
                        semantic.append(word)
                i += 1
                continue
            length, entries = hit
            phrase = " ".join(tokens[i:i + length])
            chosen = self._choose(entries, phrase)
            if (phrase in self._qualifiers or phrase in self._stop) and all(v == "brands" for v, _ in chosen) \
                    and not self._brand_named(tokens, i):
                i += 1  # "cotton only", "black and white": a word that says nothing else, not the brand of that name
                continue
            if all(v == "brands" for v, _ in chosen) and self._person_at(tokens, i, length, owners):
                i += length  # "a gift for my boss": whom it is for, not Hugo Boss
                continue
            if all(v == "genders" for v, _ in chosen) and self._owner_of_another(tokens, i, length, owners):
                i += length  # "my son's teacher": the teacher is whom it is for
                continue
            # A product type is negated only right after the negation ("no heels"), never behind a word the
            # negation already took ("not flashy shoes" still asks for shoes).
            is_type = any(v == "categories" for v, _ in chosen)
            negated = i < negate_until and not (is_type and negated_words)
            own = [(v, t) for v, t in chosen if v == "categories" and phrase_key(t) in (phrase, singular(phrase))
                   and singular(t) in {singular(x) for x in self.lexicon.term(v, t).types}]  # a type's own name
            if negated and is_type and not own and self._first_types(chosen) & asked_types:
                # "heels, no wedges", "casual shoes, not sneakers": another name of the type asked for rules out
                # that kind of it (a style, else the word in titles), not the type itself
                chosen = [(v, t) for v, t in entries if v not in ("categories", "genders")]
                if not chosen:
                    draft.excluded.extend(tokens[i:i + length])
                    listed = i + length < len(tokens) and tokens[i + length] in LIST_WORDS
                    negate_until = self._list_reach(tokens, i + length) if listed else -1
                    i += length
                    continue
                is_type = False
            if negated and own:  # "sandals, no flip flops": that type, not a family a rule names it in (chappals)
                chosen = own + [(v, t) for v, t in chosen if v != "categories"]
            if is_type and not negated:
                asked_types |= self._first_types(chosen)
            # "synthetic free", "leather-free": an attribute's only (a word no rule knows keeps it: "frost free
            # fridge"; a brand too: "nike free" is a shoe)
            after = tokens[i + length] if i + length < len(tokens) else ""
            if after in self._negations_after and not any(v in ("categories", "brands") for v, _ in chosen):
                negated, length = True, length + 1
            if all(v == COLOURS for v, _ in chosen):
                length += self._hue_at(tokens, i, length)
            nxt = tokens[i + length] if i + length < len(tokens) else ""
            if nxt in self._occasion_times and all(v == OCCASIONS for v, _ in chosen) \
                    and self._time_word(nxt, self.lexicon.lookup(tokens, i + length)):
                length += 1  # "sangeet night", "wedding day": when the setting is, not night suits
            if is_type and not negated and i == kind_end and modifier[1]:
                # "shirt dress", "sweater dress", "dress pants": a kind worn in another place, named in the singular
                # right before another, says what the latter is like, and is not asked for (a kind of the same
                # place may be the same thing's other name: "tee shirts", "salwar pants", "tunic top")
                head = {t for v, term in chosen if v == "categories" for t in self.lexicon.term(v, term).types}
                if self.slot_of is not None and not modifier[0] & head \
                        and not self._worn_in_one_place(modifier[0], self._first_types(chosen)):
                    draft.types = {t: grade for t, grade in draft.types.items() if t not in modifier[1]}
            if is_type and not negated:
                kind_end = i + length
                said = phrase == singular(phrase)
                modifier = (self._first_types(chosen) if said else set(), {
                    t for v, term in chosen if v == "categories" and said
                    for t in self.lexicon.term(v, term).types if t not in draft.types})  # not yet added
            for vocabulary, term in chosen:
                self.add_constraint(draft, vocabulary, term, phrase, negated)
            if negated:
                # One negation covers one term, or a list of them: "no leather or suede".
                nxt = tokens[i + length] if i + length < len(tokens) else ""
                # "other than black and grey": "and" lists on where a term of the same vocabulary follows it
                listed = nxt in LIST_WORDS or (nxt == "and" and any(
                    self._names_at(tokens, i + length + 1, v) for v, _ in chosen))
                negate_until = self._list_reach(tokens, i + length) if listed else -1
            else:
                if i < negate_until:
                    negate_until = -1
                if all(self._searched(v, t) for v, t in chosen):  # "gift" in a vector finds gift sets too
                    semantic.append(self._encoded(chosen, phrase))
            i += length
        draft.semantic_text = " ".join(semantic)

    @staticmethod
    def _list_reach(tokens: list[str], end: int) -> int:
        """Where a negation reaches whose list goes on after the term ending at `end` ("no leather or suede"); commas
        are gone by now, and a list's article is passed over ("not a watch or a wallet")."""
        article = tokens[end + 1] if end + 1 < len(tokens) else ""
        return end + 2 + (article in _ARTICLES)

    def _first_types(self, chosen: list[tuple[str, str]]) -> set[str]:
        """The product types the chosen category terms ask for first ("sneakers": casual shoes)."""
        return {t for v, term in chosen if v == "categories"
                for t, grade in self.lexicon.term(v, term).types.items() if grade >= 1}

    def _choose(self, entries: list[tuple[str, str]], phrase: str) -> list[tuple[str, str]]:
        # A phrase that names a product type is a category first ("tank", "sandals"), except for brands.
        names = {v for v, _ in entries}
        if "brands" in names and names - {"brands", "categories", "genders"}:
            # A word that is a brand and an attribute is the attribute: "denim jacket" (Denim is a brand too)
            return [e for e in entries if e[0] != "brands"]
        if "categories" in names and "brands" not in names:
            categories = [e for e in entries if e[0] == "categories"]
            # ... and the kind of it another vocabulary names, where the phrase is another name of the type:
            # "stilettos" asks for heels with a stiletto heel, "ankle socks" for socks of that length ("sandals"
            # is the type's own name, not heels of the sandal kind: a type's own kind is what it implies)
            if any(phrase_key(t) == phrase for _, t in categories):
                return categories + [e for e in entries if e[0] == "genders"]
            return categories + [e for e in entries if e[0] != "categories"]
        return entries

    def add_constraint(self, draft: QueryDraft, vocabulary: str, term: str, phrase: str, negated: bool,
             implied: bool = False, defining: bool = False) -> None:
        vocab = self.lexicon.vocabularies[vocabulary]
        rule = vocab.terms[term]
        if vocabulary == "categories" and not negated:
            for type_name, grade in rule.types.items():
                draft.types[type_name] = max(draft.types.get(type_name, 0.0), grade)
        same = [c for c in draft.constraints if c.vocabulary == vocabulary and c.term == term and c.negated == negated]
        if same and (implied or not same[0].implied):
            return
        if same:  # said after something implied it ("kurta pyjama for men"): said, so a filter where it may be one
            draft.constraints.remove(same[0])
        if vocabulary != "categories" or negated:
            # a ruled-out type is what its word asks for, not what it is related to ("not deodorant": perfume stays)
            values = sorted(self.lexicon.values(vocabulary, term)) if vocabulary != "categories" else sorted(
                t for t, grade in rule.types.items() if grade >= 1)
            near = sorted(self.lexicon.near(vocabulary, term)) if not negated and vocabulary != "categories" else []
            draft.constraints.append(Constraint(vocabulary=vocabulary, field=vocab.field, term=term, values=values,
                                                near=near, negated=negated, implied=implied, defining=defining,
                                                source=phrase, penalty=vocab.penalty, replaces=vocab.replaces,
                                                soft=vocab.soft, hard=vocab.hard))
        if not negated:
            self._imply(draft, rule.implies, phrase, defining=vocabulary == "categories")
        else:
            self._imply(draft, rule.ruled_out_asks, phrase, instead=True)

    def _imply(self, draft: QueryDraft, implies: dict[str, list[str]], phrase: str, defining: bool = False,
               instead: bool = False) -> None:
        for other, targets in implies.items():
            # what is ruled out in a vocabulary says nothing there of what is wanted instead; a word said for it does
            said = any(c.vocabulary == other and not c.implied and not (instead and c.negated) for c in draft.constraints)
            for target in targets:
                if not said:
                    # a kind of product's implication is what the kind is
                    self.add_constraint(draft, other, target, phrase, False, implied=True, defining=defining)

    def _yield_to_what_was_said(self, draft: QueryDraft) -> None:
        """A term implied by some words yields to what the shopper said in its vocabulary, and so does all else
        those words implied ("panties for girls": girls and kids' wear, not the women and adults panties imply)."""
        said = {c.vocabulary for c in draft.constraints if not c.implied and not c.negated}
        overridden = {c.source for c in draft.constraints if c.implied and c.vocabulary in said}
        if not overridden:
            return
        draft.constraints = [c for c in draft.constraints if not (c.implied and c.source in overridden)]
        for c in [c for c in draft.constraints if not c.implied and not c.negated]:
            # what the words that stay imply, where a dropped implication had named it first
            self._imply(draft, self.lexicon.term(c.vocabulary, c.term).implies, c.source)

    def build(self, draft: QueryDraft) -> ParsedQuery:
        """Derive what depends on the rest (implied types, catalog prices, expansions, BM25 and encoder texts)
        and freeze. The draft is left as it was."""
        draft = QueryDraft.of(draft)
        self._as_said(draft)
        self._an_event_worn_to(draft)
        self._whose_occasion(draft)
        self._the_one_who_wears(draft)
        self._with_company(draft)
        self._the_narrower_side(draft)
        self._one_setting_of_two(draft)
        self._grown_ups_at_a_grown_ups_setting(draft)
        self._the_speaker_grown_up(draft)
        self._in_place_of_what_they_tire_of(draft)
        self._a_grown_up_where_no_one_is_named(draft)
        if draft.types and not draft.types_implied:  # "a bag for my gym clothes": the type said decides, not clothes
            draft.constraints = [c for c in draft.constraints if c.field != "type" or c.vocabulary == "categories"]
        if draft.types:
            self._narrow_by_occasion(draft)
            self._grown_ups_where_no_kids_wear(draft)
            self._for_the_side_said(draft)
        else:
            self._a_season_alone_asks_its_need(draft)
            self._an_outfit_for_an_unnamed_setting(draft)
            self._types_of_occasions(draft)
        self._widen_unrecorded_occasions(draft)
        if draft.price is not None:
            draft.price = self._resolve_price(draft.price, draft.types)
        # A colour the words said imply ("haldi": yellow, "lbd": black) is what the shopper pictures: the encoder
        # reads it too (a text of "friends haldi" alone finds black kurtas as readily as yellow ones); so is a colour
        # said by another name ("wine coloured": maroon), which the encoder knows less well than the catalog's
        said, seen = {c.source for c in draft.constraints if not c.implied and not c.negated}, draft.semantic_text.split()
        pictured = [c.term for c in draft.constraints if c.vocabulary == "colors" and not c.negated
                    and (c.source in said if c.implied else not set(c.term.split()) & set(seen))
                    and c.term not in seen]
        if pictured:
            draft.semantic_text = " ".join([draft.semantic_text, *pictured]).strip()
        # The shopper's own words first, in their order (negated ones excluded), then what rules add.
        expansions: list[str] = [w for w in draft.semantic_text.split() if w not in self._stop]
        for c in draft.constraints:
            if not c.negated and not c.implied:
                expansions.append(c.source)
        # BM25 gets the shopper's words plus canonical terms and product types, not every alias:
        # aliases widen recall in the vocabulary match, but as free words they mostly add noise.
        keyword_terms = list(expansions)
        for c in draft.constraints:
            if not c.negated and not c.implied and c.vocabulary != "genders":
                keyword_terms.append(c.term)
        for type_name, grade in draft.types.items():
            if grade >= 1 and not draft.types_implied:
                keyword_terms.append(self.stats.names.get(type_name, type_name).lower())
        for c in draft.constraints:
            if not c.negated and not c.implied:
                expansions.extend([c.term, *self.lexicon.term(c.vocabulary, c.term).aliases])
        draft.expansions = list(dict.fromkeys(e for e in [*keyword_terms, *expansions] if e))
        # The words of a constraint the catalog pre-filters on ("men" when it records genders) rank nothing among
        # the products the filter leaves, and at scale their posting lists span half the catalog: BM25 skips them.
        # Not a filter on kinds of product: few of the kinds it leaves say its word ("clothes": clothing sets).
        filtered = {w for c in draft.constraints if c.prefilters(self.stats.values) and c.field != "type"
                    for w in c.source.split()}
        filtered |= {w for c in draft.constraints if not self._searched(c.vocabulary, c.term)
                     for w in f"{c.source} {c.term}".split()}
        filtered |= self._words_of_kinds_not_asked(draft)
        # "a black tie event", "a wine tasting": a colour's word in the name of a setting is no colour asked for, and
        # in titles it finds that colour ("Black Tie"); the encoder reads the setting's name (`_encoded`)
        filtered |= {w for c in draft.positive(OCCASIONS) for w in c.source.split() if w in self._colour_words}
        filtered |= {w for r in self._roles_named(draft) for w in r.split()}
        # "wine coloured": the colour's suffix is part of its phrase, and in titles another colour's ("Multi Coloured")
        filtered |= {suffix for c in draft.constraints if c.vocabulary in self.lexicon.vocabularies
                     for suffix in self.lexicon.vocabularies[c.vocabulary].suffixes if c.source.endswith(f" {suffix}")}
        words = [w for e in keyword_terms for w in e.split() if w not in self._stop and w not in filtered]
        draft.keyword_query = " ".join(dict.fromkeys(words))
        if not draft.semantic_text:
            draft.semantic_text = draft.keyword_query or ("" if draft.negated() or draft.excluded else draft.normalized)
        return ParsedQuery.model_construct(**{name: getattr(draft, name) for name in QueryFields.model_fields})

    def _words_of_kinds_not_asked(self, draft: QueryDraft) -> set[str]:
        """"What to wear to an open mic night": the word of a setting dressed for that is in the name of a kind the
        setting does not ask for (night suits) finds that kind; BM25 skips it (the setting's kinds are asked for by
        type). A product named beside a setting keeps it ("travel pouch", "formal shirts")."""
        if draft.intent != Intent.outfit:
            return set()
        words: set[str] = set()
        for c in draft.constraints:
            term = self.lexicon.term(c.vocabulary, c.term)
            if c.negated or c.vocabulary == "categories" or not term.types:
                continue
            asked = {w for t in [*draft.types, *term.types] for w in t.split()}
            words |= {w for w in c.source.split() if w in self._type_words and w not in asked}
        return words

    def _an_event_worn_to(self, draft: QueryDraft) -> None:
        """"what to wear to my friend's birthday": asked what to wear, an event named as a gift's occasion is a
        setting one dresses for, read as the term its rules say it is then (a party), not a gift one buys."""
        occasions = self.lexicon.vocabularies.get(OCCASIONS)
        if draft.intent != Intent.outfit or occasions is None:
            return
        for c in [c for c in draft.positive(OCCASIONS) if not c.implied]:
            instead = occasions.terms[c.term].worn_to.get(c.source)
            if instead:
                draft.constraints = [x for x in draft.constraints if x is not c and not (
                    x.implied and x.source == c.source)]
                self.add_constraint(draft, OCCASIONS, instead, c.source, False)

    def _whose_occasion(self, draft: QueryDraft) -> None:
        """"what should a guy wear to his sister's wedding": a person named in the possessive is whose the wedding
        is; where another is said plainly, the find is that one's (alone, "my sister's birthday" stays hers)."""
        said = [c for c in draft.positive("genders") if not c.implied]
        if len(said) < 2:
            return
        self._not_the_wearer(draft, said, owners_written(draft.raw, [c.source for c in said]))

    def _the_one_who_wears(self, draft: QueryDraft) -> None:
        """"my sister is getting married, what do i wear? i'm her brother": asking what they wear, a shopper who
        says who they are ("i'm her brother", "i am the bride's sister") is whom the find is for, not the others
        named; asking what another wears ("what should my husband wear, i'm his wife"), that one is."""
        said = [c for c in draft.positive("genders") if not c.implied]
        if len(said) < 2:
            return
        wearer = None
        if _I_WEAR.search(draft.normalized):
            words = _raw_words(draft.raw)
            wearer = next((c for c in said if _said_of_self(words, c.source)), None)
        elif asked := _ANOTHER_WEARS.search(draft.normalized):
            wearer = next((c for c in said if c.source in asked.group(1).split()), None)
        if wearer is not None:
            self._not_the_wearer(draft, said, {c.source for c in said if c.source != wearer.source})

    def _not_the_wearer(self, draft: QueryDraft, said: list[Constraint], others: set[str]) -> bool:
        """Drop the said genders of `others` (an occasion's owner, the shopper's company) and all they implied,
        where another is said plainly; whether it did. What the wearer's words imply holds again where the others'
        had taken its place ("my kid's school function, women": a grown-up's wear)."""
        if not others or all(c.source in others for c in said):
            return False
        draft.constraints = [c for c in draft.constraints if c.source not in others]
        for c in [c for c in said if c.source not in others]:
            self._imply(draft, self.lexicon.term(c.vocabulary, c.term).implies, c.source)
        return True

    def _one_setting_of_two(self, draft: QueryDraft) -> None:
        """"a wedding in goa, beach side": two settings said apart whose names together name a third (a beach and a
        wedding: a beach wedding) are that one."""
        occasions = self.lexicon.vocabularies.get(OCCASIONS)
        said = [c for c in draft.positive(OCCASIONS) if not c.implied]
        for a, b in ((a, b) for a in said for b in said if a is not b):
            both = f"{a.term} {b.term}"
            if occasions and both in occasions.terms:
                draft.constraints = [c for c in draft.constraints if c.source not in (a.source, b.source)]
                self.add_constraint(draft, OCCASIONS, both, f"{a.source} {b.source}", False)
                return

    def _the_narrower_side(self, draft: QueryDraft) -> None:
        """"clothes for a newborn baby girl", "kids' shoes for my son": a side said within a broader one said too
        (girls among kids) is whom the find is for."""
        said = [c for c in draft.positive("genders") if not c.implied]
        broader = {c.source for c in said if any(set(o.values) < set(c.values) for o in said)}
        if broader and not all(c.source in broader for c in said):
            self._not_the_wearer(draft, said, broader)

    def _grown_ups_where_no_kids_wear(self, draft: QueryDraft) -> None:
        """"kurtis for girls", "heels for girls": the catalog sells the types asked for to no girl but to women, so
        the girls meant are young women (a boys' tracksuit likewise a man's)."""
        asked = [t for t, grade in draft.types.items() if grade >= 1]
        if draft.types_implied or not asked or not self.stats.type_genders or self._a_child_said(draft):
            return
        sold = self.stats.sold_to(asked)
        for c in [c for c in draft.constraints if c.vocabulary == "genders" and not c.negated and not c.implied]:
            grown = self._grown_up(c.term)
            if grown != c.term and not sold.get(c.term) and sold.get(grown):
                self._said_instead(draft, c, grown)

    @staticmethod
    def _a_child_said(draft: QueryDraft) -> bool:
        """A child's age said in words ("little girl", "my 8 year old daughter"): the girls meant are children even
        where the catalog sells the kinds asked for to women alone."""
        return any(c.term == "kids" and (not c.implied or c.source.endswith(YEARS)) for c in draft.positive("ages"))

    def _grown_ups_at_a_grown_ups_setting(self, draft: QueryDraft) -> None:
        """"college outfit for girls": a setting only grown-ups go to (its term implies adult ages), or a grown-up's
        age ("a girl in her twenties", "a 25 year old boy"), makes the girls said young women and the boys young
        men; the catalog's girls' and boys' wear is children's. So does a grown-up's step in life said of them ("my
        son got a job"), which the rules read as adult ages."""
        aged = any(c.term == "adult" and (c.source.endswith(YEARS) or not c.implied) for c in draft.positive("ages"))
        if not aged and not any(
                self.lexicon.term("occasions", c.term).implies.get("ages") == ["adult"]
                for c in draft.positive("occasions") if c.term in self.lexicon.vocabularies["occasions"].terms):
            return
        for c in [c for c in draft.positive("genders") if not c.implied]:
            grown = self._grown_up(c.term)
            if grown != c.term:
                self._said_instead(draft, c, grown)

    def _the_speaker_grown_up(self, draft: QueryDraft) -> None:
        """"what do i wear to a pool party, girl": a bare "girl" in a question the shopper asks of themself names
        the one asking, a young woman, as ", guy" names a man; a child is written of ("a girl", "my girl", "for
        girls") or given an age. Not where someone else is named too."""
        words = draft.normalized.split()
        said = [c for c in draft.positive("genders") if not c.implied]
        if len({c.source for c in said}) != 1 or self._a_child_said(draft):
            return
        c = said[0]
        # "what to wear on a road trip, girl": a question of what to wear signed by one (", girls" names children)
        signed = _SIGNED.search(draft.raw.lower())
        by_one = draft.intent == Intent.outfit and signed and signed[1] == c.source == singular(c.source)
        if not _SPEAKER & set(words) and not by_one:
            return
        grown = self._grown_up(c.term)
        if grown == c.term or c.source not in words or c.source in self.lexicon.term("genders", c.term).relations:
            return
        at = words.index(c.source)
        if at > 0 and words[at - 1] not in _OF_ANOTHER:
            self._said_instead(draft, c, grown)

    def _a_grown_up_where_no_one_is_named(self, draft: QueryDraft) -> None:
        """"party dresses", "sneakers under 3000": a shopper who names no one (nor an age, nor a setting that says
        one) shops for a grown-up, as most do; the catalog's girls' party frocks are a child's. Not where the kinds
        asked for are sold to children alone. Read afresh on every build: a turn that names someone ends it."""
        draft.constraints = [c for c in draft.constraints if not (c.vocabulary == "ages" and c.default)]
        ages = self.lexicon.vocabularies.get("ages")
        if ages is None or "adult" not in ages.terms or any(
                c.vocabulary in ("genders", "ages") and not c.negated for c in draft.constraints):
            return
        asked = [t for t, grade in draft.types.items() if grade >= 1]
        if asked and self.stats.type_genders:
            sold = self.stats.sold_to(asked)
            if not any(n for gender, n in sold.items() if self._grown_up(gender) == gender):
                return
        self.add_constraint(draft, "ages", "adult", "", False, implied=True)  # implied by no words: a default

    def _as_said(self, draft: QueryDraft) -> None:
        """A kids' gender an earlier build read as the grown-up one is read as said again, for the rules to decide
        anew: "track pants for boys" (the catalog's are men's), then "now tshirts" (boys wear those)."""
        for c in [c for c in draft.positive("genders") if not c.implied and c.source]:
            hit = self.lexicon.lookup(c.source.split(), 0)
            said = [t for v, t in hit[1] if v == "genders"] if hit and hit[0] == len(c.source.split()) else []
            if said and said[0] != c.term and self._grown_up(said[0]) == c.term:
                self._said_instead(draft, c, said[0])

    def _said_instead(self, draft: QueryDraft, said: Constraint, gender: str) -> None:
        """A gender term read in place of the one said, with what the said one implied dropped."""
        draft.constraints = [x for x in draft.constraints if x is not said and not (x.implied and x.source == said.source)]
        self.add_constraint(draft, "genders", gender, said.source, False)

    def _grown_up(self, gender: str) -> str:
        """The grown-up gender term of a kids' one's side ("girls": "women"); any other as it is."""
        if gender not in self._gender_terms or self.lexicon.term("genders", gender).implies.get("ages") != ["kids"]:
            return gender
        return next((g for s in SIDES if gender in s for g in s - {gender} if g in self._gender_terms), gender)

    def _for_the_side_said(self, draft: QueryDraft) -> None:
        """"mens purse": a wallet. A type the catalog sells nearly only to the other side than the one said (a
        handbag) is only related, where another type asked for is not."""
        said = [c.term for c in draft.positive("genders") if not c.implied]
        side = next((s for s in SIDES if said and said[0] in s), None)
        if side is None:
            return
        whose = {t: self.stats.gender_of([t]) for t in draft.types}
        theirs = {t for t, gender in whose.items() if gender and gender not in side}
        if theirs and any(grade >= 1 and t not in theirs for t, grade in draft.types.items()):
            draft.types = {t: min(grade, RELATED) if t in theirs else grade for t, grade in draft.types.items()}

    def _with_company(self, draft: QueryDraft) -> None:
        """"a trip to the zoo with my kids, women": whom the shopper goes with is company, not whom the find is
        for; where another is said plainly, the find is that one's (alone, "a day out with my kids" stays theirs)."""
        said = [c for c in draft.positive("genders") if not c.implied]
        if len(said) < 2:
            return
        words = _raw_words(draft.raw)
        company = set()
        for at in (i for i, w in enumerate(words) if w == "with"):
            after = words[at + 1:at + 3]
            after = after[1:] if after[:1] and after[0] in COMPANY_MARKERS else after
            company.update(after[:1])
        companions = {c.source for c in said if c.source.split()[0] in company}
        if self._not_the_wearer(draft, said, companions):
            gone = {w for source in companions for w in source.split()}  # nor do the texts search them
            draft.semantic_text = " ".join(w for w in draft.semantic_text.split() if w not in gone)

    def _in_place_of_what_they_tire_of(self, draft: QueryDraft) -> None:
        """"My feet hurt in heels", "tired of sneakers", and no kind named: they wear that kind and ask for another
        that takes its place on an outfit (footwear but heels). A plain "no heels" only rules it out."""
        if draft.types or self.slot_of is None or self._aversion is None:
            return
        if not self._aversion.search(phrase_key(draft.normalized)):
            return
        ruled_out = {v for c in draft.constraints if c.negated and c.field == "type" for v in c.values}
        places = {self.slot_of(t) for t in ruled_out} - {None}
        side = self.stats.gender_of(ruled_out)  # heels: a woman's, so her other footwear (not men's sandals)
        instead = [t for t in self.stats.values.get("type", {}) if t not in ruled_out and self.slot_of(t) in places
                   and (side is None or self.stats.gender_of([t]) in (side, None))]
        if instead:
            draft.types.update(dict.fromkeys(instead, 1.0))
            draft.types_implied = True
        if side in self._gender_terms and not any(c.vocabulary == "genders" for c in draft.constraints):
            self.add_constraint(draft, "genders", side, side, False, implied=True)

    def _a_season_alone_asks_its_need(self, draft: QueryDraft) -> None:
        """"something for when it snows": a season said with no kind and no setting asks for what its need does
        (winter wear's sweaters and jackets), as "something for the cold" does; not a season only implied (a beach's
        summer) nor one said beside a setting, which is that setting's."""
        if any(c.vocabulary == "occasions" and not c.negated for c in draft.constraints):
            return
        for c in draft.positive("seasons"):
            for need in [] if c.implied else self._season_needs.get(c.term, []):
                self.add_constraint(draft, "occasions", need, c.source, False, implied=True)

    def _an_outfit_for_an_unnamed_setting(self, draft: QueryDraft) -> None:
        """"What do i wear to a networking event": a grown-up's outfit for a setting no rule knows (words left
        unread besides the request's own, and no kind, season or term of a vocabulary with a default for outfits)
        is dressed by that default (smart casual, the middle of the range), not found by the setting's words alone
        (a "Seminar" matches nothing worn there). A child's is not: children are not dressed by a setting's
        formality; nor is a plain "an outfit for men", which names no setting and is built from its first piece."""
        said = {c.vocabulary for c in draft.constraints if not c.implied and not c.negated}
        kids = any(c.vocabulary == "ages" and c.term == "kids" for c in draft.constraints)
        setting = [w for w in draft.keywords if w not in self._request_words and w not in self._stop]
        if draft.intent != Intent.outfit or kids or not setting or said - {"genders", "garments"}:
            return
        for name, vocab in self.lexicon.vocabularies.items():
            if vocab.unnamed_outfit and not any(c.vocabulary == name for c in draft.constraints):
                self.add_constraint(draft, name, vocab.unnamed_outfit, vocab.unnamed_outfit, False, implied=True)

    def _types_of_occasions(self, draft: QueryDraft) -> None:
        """No category word: the occasions' typical product types become the preference. Where one names a need
        ("something warm for a trip"), the needs' types alone: the setting's (a trip's shorts) may not meet it."""
        # The rules' occasions only: the LLM's are evidence, not a type list
        said = [c for c in draft.constraints
                if c.vocabulary == "occasions" and not c.negated and c.source != LLM_SOURCE]
        terms = [self.lexicon.term("occasions", c.term) for c in said]
        # "work wear", "clothes for a hike": clothes; the occasion's shoes and bags only related, and its clothes
        # graded as its best type is, where it grades them below its shoes (a hike's jackets, beside its boots)
        worn = "garments" in self.lexicon.vocabularies and (
            any(c.source.split()[-1:] == ["wear"] for c in said)
            or any(c.vocabulary == "garments" and not c.negated for c in draft.constraints))
        garments = self.lexicon.values("garments", "clothes") if worn else frozenset()
        # A setting's wear named outright ("office wear for women in summer") is the kind of clothes asked for; a
        # need said beside it (the summer) ranks among them, as "summer office wear" does
        named_wear = [t for c, t in zip(said, terms, strict=True)
                      if not t.need and c.source.split()[-1:] == ["wear"] and t.types]
        settings = any(not t.need and not t.yields and not t.venue and not t.sized and t.types for t in terms)
        venues = any(t.venue for t in terms)
        climate = any(t.implies.get("seasons") for t in terms if not t.need)
        standing = [t for t in terms if not (t.yields and (settings or venues)) and not (t.venue and settings)
                    and not (t.when and climate)]
        chosen = named_wear or [t for t in standing if t.need] or standing
        # "travel wear as a gift", "a gift for him to wear at work": clothes are what is given
        clothes_said = worn or bool(named_wear) or "wear" in draft.normalized.split()
        sized = frozenset() if clothes_said else self._sized_for_another(chosen)
        for term in chosen:
            # A setting with only clothes to offer ("a rakhi gift": ethnic wear) names what is given; one with bags,
            # gear or accessories offers those first
            offers_unsized = bool(sized) and not term.sized and not set(term.types) <= sized
            worn_top = max((grade for t, grade in term.types.items() if t in garments), default=0.0)
            lift = max(term.types.values()) / worn_top if worn_top else 1.0
            for type_name, grade in term.types.items():
                if type_name in self.stats.values.get("type", {}) or not self.stats.values:
                    if type_name in garments:
                        grade *= lift
                    elif worn:
                        grade = min(grade, RELATED)
                    if offers_unsized:
                        grade = min(grade, RELATED) if type_name in sized else 1.0
                    draft.types[type_name] = max(draft.types.get(type_name, 0.0), grade)
                    draft.types_implied = True
        if any(t.sized for t in chosen) and not draft.positive("genders"):
            draft.types = self._for_either_side(draft.types)

    def _for_either_side(self, types: dict[str, float]) -> dict[str, float]:
        """Something bought for someone whose side no word says ("a gift for a colleague", "for my boss"): the kinds
        given to both sides lead (watches, wallets, perfume), each side's own only related (handbags, cufflinks)."""
        both = {t for t in types if self.stats.gender_of([t]) is None}
        if not any(types[t] >= 1 for t in both):
            return types
        return {t: grade if t in both else min(grade, RELATED) for t, grade in types.items()}

    def _sized_for_another(self, terms: list[Term]) -> frozenset[str]:
        """The kinds worn in a size, where something bought for another ("a gift") is said beside a setting with
        kinds of its own: those of the setting's that the buyer can choose without the wearer's size lead."""
        if not any(t.types for t in terms if not t.sized):
            return frozenset()
        kinds: set[str] = set()
        for vocabulary, names in (pair for t in terms for pair in t.sized.items()):
            for name in names:
                term = self.lexicon.term(vocabulary, name)
                kinds |= set(term.types) if term.types else self.lexicon.values(vocabulary, name)
        return frozenset(kinds)

    def _widen_unrecorded_occasions(self, draft: QueryDraft) -> None:
        """An occasion none of the asked types records reads as its broader one: the feed says which shoes are for
        running, never which shorts, so "running shorts" prefers the sports ones to none."""
        asked = [t for t, grade in draft.types.items() if grade >= 1]
        if not asked or not self.stats.type_occasions:
            return
        recorded = self.stats.occasions_recorded(asked)
        for i, c in enumerate(draft.constraints):
            within = self.lexicon.term(c.vocabulary, c.term).within if c.vocabulary == "occasions" else None
            if within and not c.negated and recorded.isdisjoint(c.values):
                values = sorted({*c.values, *self.lexicon.values("occasions", within)})
                draft.constraints[i] = c.model_copy(update={"values": values})

    def _narrow_by_occasion(self, draft: QueryDraft) -> None:
        """A category and an occasion narrow each other: the types both grade highest (the lower of the two grades)
        are asked for, the category's others only related ("shoes for a party": heels; "a bag for a party":
        clutches; "shoes for running"). A season said of a kind narrows it as the season's need would ("winter
        accessories": the scarves, mufflers and gloves; "winter jackets" stay jackets)."""
        draft.types = self.narrowed_by_occasions(draft.types, draft.constraints)
        said = {c.term for c in draft.positive("occasions") if not c.implied}
        for c in draft.positive("seasons"):
            for need in [] if c.implied else self._season_needs.get(c.term, []):
                if need not in said:
                    draft.types = self.narrowed(draft.types, need)

    def favouring(self, types: dict[str, float], gender: str, least: float = 0.0) -> dict[str, float]:
        """What goes with a piece the catalog sells to one side (a dress, a saree) is that side's own kinds, the rest
        only related: a word of that side's kind ("a top") keeps its own grades; one of both sides' kinds ("shoes",
        "accessories") asks for that side's kinds it grades over `least` (the heels and earrings it relates)."""
        own = {t for t in types if self.stats.gender_of([t]) == gender}
        asked = {t for t, grade in types.items() if grade >= 1}
        theirs = asked if asked and asked <= own else {t for t in own if types[t] > least}
        if not theirs:
            return types
        return {t: 1.0 if t in theirs else min(grade, RELATED) for t, grade in types.items()}

    def narrowed_by_occasions(self, types: dict[str, float], constraints: list[Constraint]) -> dict[str, float]:
        """Types narrowed by each occasion said: those both grade highest asked for, the others only related. A need
        narrows last, so its kinds prevail over a setting's ("shoes for standing all day at work": flats, not heels)."""
        said = [c for c in constraints
                if c.vocabulary == "occasions" and not c.negated and not c.implied and c.source != LLM_SOURCE]
        # a setting that yields ("a trip") narrows nothing beside one that says more ("to walk in all day"); a gift
        # says only who buys, so it says no more
        terms = [(c.term, self.lexicon.term("occasions", c.term)) for c in said]
        if any(not t.yields and not t.sized for _, t in terms):
            terms = [(name, t) for name, t in terms if not t.yields]
        if any(not t.need and not t.venue and not t.sized for _, t in terms):  # a party held at the office
            terms = [(name, t) for name, t in terms if not t.venue]
        worn_by = {v for c in constraints if c.vocabulary == "genders" and not c.negated for v in c.values}
        for name, _ in sorted(terms, key=lambda pair: pair[1].need):
            types = self.narrowed(types, name, worn_by)
        return types

    def narrowed(self, types: dict[str, float], occasion: str, worn_by: set[str] | None = None) -> dict[str, float]:
        """Types narrowed by one occasion: those both grade highest asked for, the others only related. Kinds the
        catalog hardly sells to the side said narrow nothing ("shoes for a wedding, men": not heels)."""
        suits = self.lexicon.term("occasions", occasion).types
        fit = {t: min(grade, suits[t]) for t, grade in types.items()
               if t in suits and not (worn_by and self.stats.hardly_sold_to([t], worn_by))}
        # Those both grade highest: "festive kurta set" asks for kurta sets, not the kurtas both relate to
        both = {t for t, grade in fit.items() if grade == max(fit.values())} if fit else set()
        if both:
            types = {t: 1.0 if t in both else min(grade, RELATED) for t, grade in types.items()}
        return types

    def _encoded(self, chosen: list[tuple[str, str]], phrase: str) -> str:
        """The words the encoder reads for a phrase: the term's name where the phrase names a relation ("mom": women)
        or is a setting's name that holds a colour's word ("black tie event": formal evening, not black ties)."""
        if len(chosen) == 1 and ({phrase, singular(phrase)} & set(self.lexicon.term(*chosen[0]).relations)
                                 or self._a_setting_named_in_colour(chosen[0][0], phrase)):
            return chosen[0][1]
        return phrase

    def _a_setting_named_in_colour(self, vocabulary: str, phrase: str) -> bool:
        return vocabulary == OCCASIONS and bool(set(phrase.split()) & self._colour_words)

    def _searched(self, vocabulary_name: str, term_name: str) -> bool:
        """Whether a term's words are searched: not where titles use them for something else ("gift")."""
        vocabulary = self.lexicon.vocabularies.get(vocabulary_name)
        term = vocabulary.terms.get(term_name) if vocabulary else None
        return term is None or term.searched

    def _resolve_price(self, price: PriceRange, types: dict[str, float]) -> PriceRange:
        if price.hard:
            currency = self.stats.currency
            return price.model_copy(update={
                "catalog_min": self.prices.convert(price.min, price.currency, currency) if price.min else None,
                "catalog_max": self.prices.convert(price.max, price.currency, currency) if price.max else None})
        if price.relative is None:
            return price  # already resolved (a refinement against shown results)
        rule = self.rules.price_words.relative[price.relative]
        main = max(types, key=lambda t: types[t]) if types else None
        return price.model_copy(update={
            "catalog_max": self.stats.quantile(rule.max_quantile, main) if rule.max_quantile is not None else None,
            "catalog_min": self.stats.quantile(rule.min_quantile, main) if rule.min_quantile is not None else None})

    def _decompose(self, draft: QueryDraft, text: str) -> list[ParsedQuery]:
        """'a jacket and shoes' -> one sub-query per item, sharing gender, price, occasion and negations."""
        parts = [text]
        for conj in self._conjunctions:
            parts = [p for part in parts for p in re.split(rf"(?<!\w){re.escape(conj)}(?!\w)", part)]
        parts = [p.strip() for p in parts if p.strip()]
        if len(parts) < 2:
            return []
        subs = []
        for part in parts:
            sub = QueryDraft(raw=part, normalized=part, intent=draft.intent)
            self._match_terms(phrase_key(part).split(), sub)
            if not sub.types or sub.types_implied:
                return []  # not a list of items: "black and white shirt"
            subs.append(sub)
        shared = [c for c in draft.constraints if c.vocabulary in ("genders", "occasions", "seasons") or c.negated]
        out = []
        for sub in subs:
            own = {(c.vocabulary, c.term, c.negated) for c in sub.constraints}
            sub.constraints.extend(c for c in shared if (c.vocabulary, c.term, c.negated) not in own)
            sub.price = draft.price
            out.append(self.build(sub))
        return out
