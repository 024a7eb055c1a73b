"""Hybrid retrieval: the profile's lists (BM25, vectors, and type- or brand-focused ones when the query names
them, or the LLM reads types into it) under the same pre-filters, fused by weighted RRF; a relaxable filter is
dropped before results run out; product ids typed verbatim are always kept, first."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vitrina.index.protocol import FilterSpec, Match, ProductIndex, Scored
from vitrina.retrieve.fusion import reciprocal_rank_fusion
from vitrina.retrieve.models import Candidate
from vitrina.understand.models import ParsedQuery

LISTS = ("bm25", "vector", "type_vector", "type_bm25", "brand_vector", "image")
LEXICAL = ("bm25", "type_bm25")
TYPE_LISTS = ("type_bm25", "type_vector")
# The query's vector against the products' photos (the image tower shares the text space); its cosines are on the
# photo scale, so they say nothing about whether matches lie beyond the list (min_cosine is a text cosine).
IMAGE_LISTS = ("image",)


class RetrievalRequest(BaseModel):
    """What a Retriever is asked: the query, its texts and vector, the filters, how many candidates."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    parsed: ParsedQuery
    keyword_text: str  # what BM25 searches
    vector: np.ndarray | None = None
    hard: FilterSpec = Field(default_factory=FilterSpec)  # never relaxed
    soft: FilterSpec = Field(default_factory=FilterSpec)  # dropped when it leaves fewer than `want` candidates
    want: int = 10
    per_list: int = 150
    exact_ids: bool = True
    min_cosine: float = -1.0  # a vector list whose last hit is below this has no matches beyond it


class Retrieved(BaseModel):
    """Fused candidates, best first, and whether any could lie beyond them."""
    candidates: list[Candidate]
    exhausted: bool  # every list returned fewer than it was asked for: no candidate lies beyond these
    timings: dict[str, float] = Field(default_factory=dict)


class HybridRetriever:
    """The profile's retriever lists over one index, fused by weighted RRF (a zero weight turns a list off)."""
    def __init__(self, index: ProductIndex, weights: dict[str, float], rrf_k: int = 60,
                 photo_query: Callable[[ParsedQuery, np.ndarray], np.ndarray] | None = None):
        unknown = set(weights) - set(LISTS)
        if unknown:
            raise ValueError(f"unknown retriever lists {sorted(unknown)}; known: {', '.join(LISTS)}")
        self.index = index
        self.weights = {name: w for name, w in weights.items() if w > 0}  # a zero weight turns a list off
        self.rrf_k = rrf_k
        self.photo_query = photo_query  # the query's vector for the photo list (vision.readers.PhotoQuery)

    def retrieve(self, request: RetrievalRequest) -> Retrieved:
        timings: dict[str, float] = {}
        where = request.hard.and_(request.soft)
        lists = self.lists(request, where, timings)
        if not request.soft.is_empty() and _count(lists) < request.want:  # "cheap" relaxes before results run out
            lists = self.lists(request, request.hard, timings)
        started = time.perf_counter()
        fused = reciprocal_rank_fusion(lists, self.weights, self.rrf_k)
        if request.exact_ids:
            fused = self._with_exact(request.parsed, fused)
        timings["fuse"] = _ms(started)
        exhausted = all(len(hits) < self.depth(name, request.per_list) or (
            name not in LEXICAL + IMAGE_LISTS and hits[-1].score < request.min_cosine) for name, hits in lists.items())
        return Retrieved(candidates=fused, exhausted=exhausted, timings=timings)

    def lists(self, request: RetrievalRequest, where: FilterSpec, timings: dict[str, float]) -> dict[str, list[Scored]]:
        asked = focus_types(request.parsed)
        out = self._lists(request, where, asked, timings)
        related = sorted(t for t, grade in request.parsed.types.items() if grade < 1 and t not in asked)
        if asked and related and not any(out.get(name) for name in TYPE_LISTS):
            # None of the asked types is sold under these filters ("kurta pajama" for men: kurta sets are sold to
            # women): the type lists search the related types instead of leaving the page to other lists' noise.
            out.update({name: hits for name, hits in self._lists(request, where, related, timings).items()
                        if name in TYPE_LISTS})
        return out

    def _lists(self, request: RetrievalRequest, where: FilterSpec, asked: list[str],
               timings: dict[str, float]) -> dict[str, list[Scored]]:
        n, text, vector, parsed = request.per_list, request.keyword_text, request.vector, request.parsed
        brands = sorted({v for c in parsed.positive("brands") for v in c.values})
        typed = where.and_(FilterSpec(must=[Match(field="type", values=asked)])) if asked else None
        branded = where.and_(FilterSpec(must=[Match(field="brand", values=brands)])) if brands else None
        plans: dict[str, Callable[[], list[Scored]] | None] = {
            "bm25": (lambda: self.index.bm25(text, n, where)) if text else None,
            "type_bm25": (lambda: self.index.bm25(text, n, typed)) if text and typed else None,
            "vector": (lambda: self.index.knn(vector, n, where)) if vector is not None else None,
            "type_vector": (lambda: self.index.knn(vector, n, typed)) if vector is not None and typed else None,
            "brand_vector": (lambda: self.index.knn(vector, n, branded)) if vector is not None and branded else None,
            "image": (lambda: self.index.knn(self._photo_vector(parsed, vector), self.depth("image", n), where,
                                             space="image")) if vector is not None else None,
        }
        out: dict[str, list[Scored]] = {}
        for group in ("bm25", "vector"):
            started = time.perf_counter()
            for name, plan in plans.items():
                if name in self.weights and plan is not None and (name in LEXICAL) == (group == "bm25"):
                    out[name] = plan()
            timings[f"retrieve_{group}"] = round(timings.get(f"retrieve_{group}", 0.0) + _ms(started), 3)
        return out

    def depth(self, name: str, per_list: int) -> int:
        """How many candidates a list asks for. The photo list asks in proportion to its weight against the
        profile's heaviest: in weighted RRF its lower ranks add too little to move a fused top (the fashion full
        profile's 0.2 of 0.8 asks 38 deep: the same dev nDCG@10 as 150, a millisecond or more sooner)."""
        if name not in IMAGE_LISTS or name not in self.weights:
            return per_list
        return max(10, min(per_list, round(per_list * self.weights[name] / max(self.weights.values()))))

    def _photo_vector(self, parsed: ParsedQuery, vector: np.ndarray) -> np.ndarray:
        return self.photo_query(parsed, vector) if self.photo_query is not None else vector

    def _with_exact(self, parsed: ParsedQuery, candidates: list[Candidate]) -> list[Candidate]:
        """Ids typed verbatim (SKU search): looked up directly, never lost to ranking. A number the query said as a
        price is no id ("under 5000" is no SKU 5000)."""
        said = set(parsed.price.source.split()) if parsed.price is not None else set()
        tokens = [t for t in parsed.raw.replace(",", " ").split() if len(t) >= 3 and t.lower() not in said]
        exact = list(self.index.get(tokens)) if tokens else []
        if not exact:
            return candidates
        rest = [c for c in candidates if c.id not in exact]
        return [Candidate(id=i, exact=True, fused=1.0) for i in exact] + rest

    def uses_vectors(self) -> bool:
        return any(name not in LEXICAL for name in self.weights)


def focus_types(parsed: ParsedQuery) -> list[str]:
    """The types the type-focused lists search: those the query names; where it names none, or only implies some
    by an occasion, the LLM's reading of it adds its own (they narrow these lists alone, never the whole search)."""
    named = {t for t, g in parsed.types.items() if g >= 1}
    if parsed.types_implied or not named:
        named |= set(parsed.llm_types)
    return sorted(named)


def _count(lists: dict[str, list[Scored]]) -> int:
    return len({s.id for hits in lists.values() for s in hits})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
