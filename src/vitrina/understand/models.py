"""What query understanding returns: the ParsedQuery, carried with every search response."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class Intent(str, Enum):
    product_search = "product_search"
    outfit = "outfit"
    comparison = "comparison"
    details = "details"
    help = "help"


class PriceRange(BaseModel):
    min: float | None = None
    max: float | None = None
    currency: str | None = None  # as the shopper said it; `catalog_*` are converted
    catalog_min: float | None = None
    catalog_max: float | None = None
    source: str = ""  # the phrase it came from
    hard: bool = True  # an explicit number is a hard filter; "cheap" is a preference


class Constraint(BaseModel):
    vocabulary: str  # colors, materials, genders, ...
    field: str  # payload field it matches
    term: str  # canonical term
    values: list[str]  # catalog values (lower-cased) that satisfy it
    negated: bool = False
    implied: bool = False  # not said, but implied by another term ("lbd" -> black)
    source: str = ""  # the words it came from


class ParsedQuery(BaseModel):
    raw: str
    normalized: str
    intent: Intent = Intent.product_search
    constraints: list[Constraint] = Field(default_factory=list)
    types: dict[str, float] = Field(default_factory=dict)  # product type -> grade (1 = asked for)
    types_implied: bool = False  # types came from an occasion, not a category word
    price: PriceRange | None = None
    sizes: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)  # content words no vocabulary claimed
    expansions: list[str] = Field(default_factory=list)  # original terms first, then synonyms
    keyword_query: str = ""  # what BM25 searches
    semantic_text: str = ""  # what the encoder embeds
    sub_queries: list[ParsedQuery] = Field(default_factory=list)
    refinements: list[str] = Field(default_factory=list)  # "cheaper", "pricier" (need the previous results)
    references: list[int] = Field(default_factory=list)  # 1-based positions of shown results ("the third one")
    carried: list[str] = Field(default_factory=list)  # what was carried over from earlier turns

    def positive(self, vocabulary: str) -> list[Constraint]:
        return [c for c in self.constraints if c.vocabulary == vocabulary and not c.negated]

    def negated(self) -> list[Constraint]:
        return [c for c in self.constraints if c.negated]
