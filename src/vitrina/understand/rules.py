"""Editable rule files per domain, validated once at load with errors that name the file and the spot.

    rules/<domain>/<vocabulary>.json   {"field": "<payload field>", "terms": {canonical: Term}}
    rules/<domain>/intents.json        {intent: [phrases]}
    rules/<domain>/price_words.json    currencies, price phrases, relative price words
    rules/<domain>/language.json       negations, stopwords, typos, conjunctions (the domain's lists add to generic's)
    rules/<domain>/ranking.json        named ranking profiles (read by vitrina.rank.profiles)

A domain folder overrides the generic folder file by file.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SPECIAL_FILES = {"intents", "price_words", "language"}
OWN_LOADERS = {"ranking", "outfits"}  # rule files read by their own stage (rank/profiles.py, engine's outfit_rules)
INTENTS = ("outfit", "comparison", "details", "help")
MAX_PHRASE = 5  # the most words a phrase the lexicon matches may have


class RulesError(ValueError):
    pass


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aliases: list[str] = Field(default_factory=list)  # query phrases meaning this term
    values: list[str] | None = None  # catalog values it matches; default: itself and its aliases
    includes: list[str] = Field(default_factory=list)  # narrower terms a search for this one also finds
    types: dict[str, float] = Field(default_factory=dict)  # product types it asks for, with a grade
    implies: dict[str, list[str]] = Field(default_factory=dict)  # vocabulary -> terms it implies
    searched: bool = True  # its words go to BM25; false where titles use them for something else ("gift": gift sets)
    # Phrases that name it by comparison with another term ("less formal" is casual, "brighter" bright colours):
    # read as its name, so neither the keywords nor the embedding carry the other term's word
    compared: list[str] = Field(default_factory=list)
    need: bool = False  # names what a product must do (keep warm, keep dry), not where it is worn: its types prevail
    # A need met by any kind's fabric or cut (keeping cool), a place any setting may be held in (at home), or a going
    # away that the place gone to says more of (a trip): said beside a setting, the setting's types stand and it ranks
    # among them ("something breathable for the office": its shirts, not the summer's shorts; "a puja at home": the
    # puja's kurtas, not lounge pants; "a trip to a hill station": its woollens, not a trip's shorts)
    yields: bool = False
    # A need said as a time of year ("in december"): it names when, not the weather where the shopper goes, so it
    # yields to a setting with a climate of its own (one that implies a season): "goa in december" is a beach's
    when: bool = False
    # A place with wear of its own where other settings are held (the office): it yields to a setting held there ("a
    # diwali party at the office": the party's kinds), not to a need ("standing all day at work": formal flats)
    venue: bool = False
    # A broader term of its vocabulary that stands in where none of the asked types records this one (no shorts
    # say "running": running shorts are the sports ones). Read where the catalog counts the field per type.
    within: str | None = None
    # Bought for someone else, whose size the buyer seldom knows: said beside a setting that has bags, gear or
    # accessories, those lead and the setting's kinds these terms name (vocabulary -> terms: clothes, footwear) are
    # only related ("a gift for a friend who travels a lot": travel bags, not t-shirts)
    sized: dict[str, list[str]] = Field(default_factory=dict)
    # What ruling this term out asks for instead (vocabulary -> terms): "no prints" asks for plain, where ruling out
    # one of its narrower terms ("no florals") leaves any other pattern
    ruled_out_asks: dict[str, list[str]] = Field(default_factory=dict)
    # Named by a complement phrase ("to wear under"), what it is beneath the kinds of another term of its vocabulary
    # (term -> the term it is then): under a blazer or a sweater is a shirt or a top, not the vest under a shirt
    when_beneath: dict[str, str] = Field(default_factory=dict)
    # Aliases naming someone by their relation to the shopper ("mom", "husband"): they say only whom, so the encoder
    # reads the term's name, the catalog's word (reading "mom", it finds Mother of Pearl dials)
    relations: list[str] = Field(default_factory=list)
    # Aliases naming an event one goes to (alias -> the term it is then): asked what to wear to a birthday, it is a
    # party one dresses for, not a gift one buys
    worn_to: dict[str, str] = Field(default_factory=dict)

    @field_validator("types")
    @classmethod
    def _grades(cls, value: dict[str, float]) -> dict[str, float]:
        for name, grade in value.items():
            if not 0 < grade <= 1:
                raise ValueError(f"grade of {name!r} must be in (0, 1], got {grade}")
        return {k.lower(): v for k, v in value.items()}


class Vocabulary(BaseModel):
    """How a vocabulary behaves is data too, so a new domain's vocabulary needs no code."""

    model_config = ConfigDict(extra="forbid")
    field: str
    penalty: float = Field(default=0.0, ge=0, le=1)  # subtracted from the constraint signal when a hit misses it
    replaces: bool = False  # a new value in a later turn replaces the earlier one ("in red" after "blue kurtas")
    soft: bool = False  # a preference that the metadata signal scores (occasions, seasons, styles)
    hard: bool = False  # a filter when the catalog has the field (gender)
    # Words that may follow any of its phrases as part of it ("tan colour"), not searched for on their own
    suffixes: list[str] = Field(default_factory=list)
    # The term an outfit request stands for where none of its words names one of this vocabulary's or a kind of
    # product ("what to wear to a networking event": smart casual, the middle of the range, not a gym's wear)
    unnamed_outfit: str | None = None
    terms: dict[str, Term]

    @model_validator(mode="after")
    def _known_default(self) -> Vocabulary:
        if self.unnamed_outfit is not None and self.unnamed_outfit not in self.terms:
            raise ValueError(f"unnamed_outfit {self.unnamed_outfit!r} is not a term of the vocabulary")
        return self


class Currency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    symbols: list[str]
    per_usd: float = Field(gt=0)


class RelativePrice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    aliases: list[str]
    max_quantile: float | None = Field(default=None, ge=0, le=1)
    min_quantile: float | None = Field(default=None, ge=0, le=1)
    max_factor_of_median: float | None = Field(default=None, gt=0)
    min_factor_of_median: float | None = Field(default=None, gt=0)


class PriceWords(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currencies: dict[str, Currency]
    max_words: list[str]
    min_words: list[str]
    around_words: list[str]
    between_words: list[str]
    # After the amount: "1000 or less" is a ceiling, "in the 1000 to 2000 price range" a range
    max_words_after: list[str] = Field(default_factory=list)
    between_words_after: list[str] = Field(default_factory=list)
    # Words that scale the number before them: "3k", "2 thousand", "1.5 lakh"
    multipliers: dict[str, float] = Field(default_factory=lambda: {"k": 1000.0})
    around_tolerance: float = Field(default=0.2, ge=0, lt=1)
    # Words after a number that make it a measure, not a price: "10-20 lb", "1/2 in."
    units: list[str] = Field(default_factory=list)
    relative: dict[str, RelativePrice] = Field(default_factory=dict)
    refinements: dict[str, RelativePrice] = Field(default_factory=dict)


class Language(BaseModel):
    model_config = ConfigDict(extra="forbid")
    negations: list[str]
    negations_after: list[str] = Field(default_factory=list)  # "leather free": rules out the term before it
    # "non": before a rule's term it rules the term out ("non leather"); before a word no rule knows it makes the
    # compound titles print ("non-slip", "non-stick"), searched as written
    negation_prefixes: list[str] = Field(default_factory=list)
    stopwords: list[str]
    typos: dict[str, str] = Field(default_factory=dict)
    conjunctions: list[str] = Field(default_factory=list)
    complements: list[str] = Field(default_factory=list)  # "to go with": what follows is what the shopper has
    # "to wear under a kurta": a complement phrase with one of these words is worn beneath what the shopper has, so
    # unseen: the setting of what they have narrows nothing of the find's kind (a vest under a kurta is a vest)
    beneath: list[str] = Field(default_factory=list)
    # "i have a black dress, which shoes": what follows these, up to the first kind it names, is what the shopper has
    possession: list[str] = Field(default_factory=list)
    # "only" in "cotton only", "only full sleeve": nothing else, not the brand of that name, unless named as one
    # ("from only", "only brand")
    qualifiers: list[str] = Field(default_factory=list)
    brand_markers_before: list[str] = Field(default_factory=list)
    brand_markers_after: list[str] = Field(default_factory=list)
    # "a gift for my boss": a brand's word after these names a person, unless a product's words follow it
    person_markers: list[str] = Field(default_factory=list)
    # "my son ... his school": a pronoun refers to the person the words name; it says a side only where none is named
    pronouns: list[str] = Field(default_factory=list)
    # "something for my dad": a person after a person marker, and nothing asked of the find, names someone to give it
    # to; the occasion (of the domain's rules, where it has one) that such a search asks for
    person_alone: str | None = None
    # "something for my teacher": words that name a person by role, of no side; after a person marker, whom the find
    # is for, never words to search titles for
    roles: list[str] = Field(default_factory=list)
    # "something for my dad who likes to travel": what follows these is what the person likes, so the find is a gift
    interests: list[str] = Field(default_factory=list)
    # "my feet hurt in heels", "tired of sneakers": negations that say the kind ruled out is one the shopper wears,
    # so where nothing else is named they ask for another kind of its place on an outfit (footwear but heels)
    aversions: list[str] = Field(default_factory=list)
    # "i have nothing to wear", "i don't have a jacket": a lack is a need, so its negation words rule nothing out
    lacks: list[str] = Field(default_factory=list)
    # "nail polish in nude shades", "shades of pink": a colour's word, not the kind the word names alone (shades)
    hue_words: list[str] = Field(default_factory=list)
    # "sangeet night", "a night party", "wedding day": when a setting is, not a kind (night suits)
    occasion_times: list[str] = Field(default_factory=list)
    # "my lips are always chapped": how often or how much, said inside a phrase the rules know; read past
    fillers: list[str] = Field(default_factory=list)
    anaphora: dict[str, bool] = Field(default_factory=dict)


class RuleSet(BaseModel):
    domain: str
    vocabularies: dict[str, Vocabulary]
    intents: dict[str, list[str]]
    price_words: PriceWords
    language: Language


def _rules_root(rules_path: Path | None) -> Path:
    if rules_path is not None:
        return Path(rules_path)
    return Path(str(resources.files("vitrina.understand") / "rules"))


def read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RulesError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], path: Path, data: object = None) -> M:
    """A rule file read into its model (`data`: what was read of it, where merged); the error names the file and the
    spot."""
    try:
        return model.model_validate(read_json(path) if data is None else data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RulesError(f"{path}: {where}: {first['msg']}") from exc


def _domain_files(domain: str, rules_path: Path | None) -> dict[str, Path]:
    """File stem -> path: the generic folder's files, replaced file by file by the domain's."""
    root = _rules_root(rules_path)
    folder = root / domain
    if not folder.is_dir():
        known = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise RulesError(f"no rules for domain {domain!r} under {root} (known: {', '.join(known)})")
    files: dict[str, Path] = {}
    for source in (root / "generic", folder):
        if source.is_dir():
            files.update({p.stem: p for p in sorted(source.glob("*.json"))})
    return files


def rule_files(domain: str, rules_path: Path | None, stem: str) -> list[Path]:
    """Both layers of one file, generic first, for files whose entries merge rather than replace."""
    root = _rules_root(rules_path)
    _domain_files(domain, rules_path)  # the domain must exist
    layers = dict.fromkeys((root / "generic" / f"{stem}.json", root / domain / f"{stem}.json"))  # generic once
    return [p for p in layers if p.is_file()]


def _language(domain: str, rules_path: Path | None) -> Language:
    """The generic language with the domain's own words added ("gear" says nothing of a fashion find, and is a
    product at a hardware store): lists extend, the rest replaces."""
    merged: dict[str, object] = {}
    paths = rule_files(domain, rules_path, "language")
    for path in paths:
        layer = read_json(path)
        if not isinstance(layer, dict):
            raise RulesError(f"{path}: must be an object")
        for key, value in layer.items():
            before = merged.get(key)
            merged[key] = [*before, *value] if isinstance(before, list) and isinstance(value, list) else value
    return validated(Language, paths[-1], merged)


def load_rules(domain: str, rules_path: Path | None = None) -> RuleSet:
    files = _domain_files(domain, rules_path)
    folder = _rules_root(rules_path) / domain
    missing = SPECIAL_FILES - files.keys()
    if missing:
        raise RulesError(f"{folder}: missing rule files {sorted(missing)} (and no generic ones)")
    vocabularies = {name: validated(Vocabulary, path) for name, path in files.items()
                    if name not in SPECIAL_FILES | OWN_LOADERS}
    intents = read_json(files["intents"])
    if not isinstance(intents, dict) or any(k not in INTENTS for k in intents):
        raise RulesError(f"{files['intents']}: keys must be among {INTENTS}")
    rules = RuleSet(domain=domain, vocabularies=vocabularies, intents=intents,
                    price_words=validated(PriceWords, files["price_words"]),
                    language=_language(domain, rules_path))
    _check_references(rules, files)
    return rules


def _check_references(rules: RuleSet, files: dict[str, Path]) -> None:
    compared: dict[str, str] = {}
    for name, vocabulary in rules.vocabularies.items():
        for canonical, term in vocabulary.terms.items():
            long = [a for a in (canonical, *term.aliases) if len(a.replace("-", " ").split()) > MAX_PHRASE]
            if long:  # never matched: a query is read in phrases of at most MAX_PHRASE words
                raise RulesError(f"{files[name]}: terms.{canonical}: {long[0]!r} is longer than {MAX_PHRASE} words")
            for phrase in term.compared:
                if compared.setdefault(phrase, canonical) != canonical:
                    raise RulesError(f"{files[name]}: terms.{canonical}.compared: {phrase!r} already names "
                                     f"{compared[phrase]!r}")
            for inc in term.includes:
                if inc not in vocabulary.terms:
                    raise RulesError(f"{files[name]}: terms.{canonical}.includes: unknown term {inc!r}")
            if term.within is not None and term.within not in vocabulary.terms:
                raise RulesError(f"{files[name]}: terms.{canonical}.within: unknown term {term.within!r}")
            if unknown := sorted(set(term.relations) - set(term.aliases)):
                raise RulesError(f"{files[name]}: terms.{canonical}.relations: not aliases: {unknown}")
            if unknown := sorted(set(term.worn_to) - set(term.aliases)):
                raise RulesError(f"{files[name]}: terms.{canonical}.worn_to: not aliases: {unknown}")
            if unknown := sorted(set(term.worn_to.values()) - set(vocabulary.terms)):
                raise RulesError(f"{files[name]}: terms.{canonical}.worn_to: unknown terms {unknown}")
            for over, instead in term.when_beneath.items():
                for target in (over, instead):
                    if target not in vocabulary.terms:
                        raise RulesError(f"{files[name]}: terms.{canonical}.when_beneath: unknown term {target!r}")
            for field_name in ("implies", "sized", "ruled_out_asks"):
                for other, targets in getattr(term, field_name).items():
                    where = f"{files[name]}: terms.{canonical}.{field_name}"
                    if other not in rules.vocabularies:
                        raise RulesError(f"{where}: unknown vocabulary {other!r}")
                    for target in targets:
                        if target not in rules.vocabularies[other].terms:
                            raise RulesError(f"{where}.{other}: unknown term {target!r}")
