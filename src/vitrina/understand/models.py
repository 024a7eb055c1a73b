"""What query understanding returns: the ParsedQuery, carried with every search response.

A ParsedQuery is immutable. It is built once, by `QueryParser.build`, from a QueryDraft: the parser fills a draft
from the shopper's words, conversation resolution edits drafts of earlier turns, and only `build` derives the
fields that depend on the rest (keyword query, semantic text, expansions, implied types, catalog prices).
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class Intent(str, Enum):
    product_search = "product_search"
    outfit = "outfit"
    comparison = "comparison"
    details = "details"
    help = "help"


class PriceRange(BaseModel):
    model_config = ConfigDict(frozen=True)
    min: float | None = None
    max: float | None = None
    currency: str | None = None  # as the shopper said it; `catalog_*` are converted
    catalog_min: float | None = None
    catalog_max: float | None = None
    source: str = ""  # the phrase it came from
    hard: bool = True  # an explicit number is a hard filter; "cheap" is a preference
    relative: str | None = None  # the relative price word ("cheap") it came from, resolved against the catalog


class Constraint(BaseModel):
    model_config = ConfigDict(frozen=True)
    vocabulary: str  # colors, materials, genders, ...
    field: str  # payload field it matches
    term: str  # canonical term
    values: list[str]  # catalog values (lower-cased) that satisfy it
    near: list[str] = Field(default_factory=list)  # values of its broader term: half a miss ("tan": a brown bag)
    negated: bool = False
    implied: bool = False  # not said, but implied by another term ("lbd" -> black)
    defining: bool = False  # implied by the kind of product named: what that kind is (a tank top has no sleeves)
    source: str = ""  # the words it came from
    # Its vocabulary's behaviour (rules/<domain>/<vocabulary>.json):
    penalty: float = 0.0  # what a hit that misses it loses in the constraint signal
    replaces: bool = False  # a later turn's value replaces it
    soft: bool = False  # scored by the metadata signal as a preference
    hard: bool = False  # a pre-filter where the catalog has the field

    @property
    def default(self) -> bool:
        """Implied by no words: a default each build decides anew (a grown-up's wear, where no one is named)."""
        return self.implied and not self.source

    def prefilters(self, catalog_values: dict[str, dict[str, int]]) -> bool:
        """Whether it becomes a hard pre-filter on a catalog with these field values (CatalogStats.values)."""
        return not self.implied and self._filterable(catalog_values)

    def narrows(self, catalog_values: dict[str, dict[str, int]]) -> bool:
        """Whether it narrows first, relaxed when too few match: what a word implies of a pre-filtered field
        ("kurta pyjama": men)."""
        return self.implied and self._filterable(catalog_values)

    def _filterable(self, catalog_values: dict[str, dict[str, int]]) -> bool:
        return self.hard and not self.negated and bool(self.values) and bool(catalog_values.get(self.field))


LLM_SOURCE = "llm"  # Constraint.source of what the LLM added: evidence for a product, never against one


class LLMNote(BaseModel):
    """What the LLM made of a query and what of it the search used: the explanation's "which part came from
    which". Rules own explicit prices, sizes, genders and negations; the LLM only adds soft evidence."""
    model_config = ConfigDict(frozen=True)
    status: str  # "used", "pending" (reading in the background; the rules answered), "failed", "skipped"
    model: str = ""
    intent: str | None = None  # what the LLM called the query (gift, use_case, outfit, ...)
    added: list[str] = Field(default_factory=list)  # "type: dresses", "occasion: party", "expansion: linen"
    ignored: list[str] = Field(default_factory=list)  # what it proposed and the search did not take, and why
    facets: list[str] = Field(default_factory=list)  # the facets that matter for this query, most first
    error: str | None = None


class QueryFields(BaseModel):
    raw: str
    normalized: str
    intent: Intent = Intent.product_search
    constraints: list[Constraint] = Field(default_factory=list)
    types: dict[str, float] = Field(default_factory=dict)  # product type -> grade (1 = asked for)
    types_implied: bool = False  # types came from an occasion, not a category word
    llm_types: dict[str, float] = Field(default_factory=dict)  # types the LLM proposed: a bonus, never a penalty
    price: PriceRange | None = None
    sizes: list[str] = Field(default_factory=list)  # "size 32", "xl": lower-cased
    keywords: list[str] = Field(default_factory=list)  # content words no vocabulary claimed
    excluded: list[str] = Field(default_factory=list)  # words no vocabulary claimed, ruled out ("not digital")
    expansions: list[str] = Field(default_factory=list)  # original terms first, then synonyms
    keyword_query: str = ""  # what BM25 searches
    semantic_text: str = ""  # what the encoder embeds
    sub_queries: list[ParsedQuery] = Field(default_factory=list)
    refinements: list[str] = Field(default_factory=list)  # "cheaper", "pricier" (need the previous results)
    references: list[int] = Field(default_factory=list)  # 1-based positions of shown results ("the third one")
    carried: list[str] = Field(default_factory=list)  # what was carried over from earlier turns
    corrections: dict[str, str] = Field(default_factory=dict)  # misspelt word -> the catalog word it became
    unknown: list[str] = Field(default_factory=list)  # words known to no rule, catalog or dictionary ("xyzzy")
    llm: LLMNote | None = None  # the LLM's part, when the LLM layer is on

    def positive(self, vocabulary: str) -> list[Constraint]:
        return [c for c in self.constraints if c.vocabulary == vocabulary and not c.negated]

    def negated(self) -> list[Constraint]:
        return [c for c in self.constraints if c.negated]


class QueryDraft(QueryFields):
    """A query being put together (by the parser or by conversation resolution); `build` freezes it."""

    @classmethod
    def of(cls, parsed: QueryFields) -> QueryDraft:
        """An editable copy (lists and dicts copied, so the frozen original stays as it was)."""
        data = {name: getattr(parsed, name) for name in QueryFields.model_fields}
        for name, value in data.items():
            if isinstance(value, (list, dict)):
                data[name] = type(value)(value)
        return cls.model_construct(**data)


class ParsedQuery(QueryFields):
    model_config = ConfigDict(frozen=True)
