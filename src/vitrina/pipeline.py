"""SearchPipeline: the one place where the stages are composed.

understand -> (converse: merge history) -> embed -> retrieve (pre-filtered lists, RRF) -> rank -> facets
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from vitrina.config import Settings
from vitrina.converse.history import Turn, merge_turns
from vitrina.embed.cache import CachedEncoder
from vitrina.index.protocol import FilterSpec, ProductIndex, Scored
from vitrina.index.store import CatalogStats
from vitrina.rank.facets import Facet, facets_for
from vitrina.rank.models import Explanation, RankedHit
from vitrina.rank.ranker import Ranker
from vitrina.retrieve.filters import caller_filters, query_filters
from vitrina.retrieve.fusion import reciprocal_rank_fusion
from vitrina.retrieve.hybrid import HybridRetriever
from vitrina.retrieve.models import Candidate
from vitrina.understand.models import ParsedQuery, PriceRange
from vitrina.understand.parser import QueryParser

Mode = Literal["full", "bm25", "vector", "rrf"]
RANK_DEPTH = 200  # candidates fetched and ranked after fusion


class SearchResponse(BaseModel):
    search_id: str
    query: str
    hits: list[RankedHit]
    facets: list[Facet] = Field(default_factory=list)
    understanding: ParsedQuery
    timings: dict[str, float] = Field(default_factory=dict)  # stage -> milliseconds
    total: int = 0  # hits that passed the filters among the ranked candidates
    page: int = 1
    size: int = 10
    mode: str = "full"


class SearchPipeline:
    def __init__(self, settings: Settings, parser: QueryParser, encoder: CachedEncoder, index: ProductIndex,
                 stats: CatalogStats):
        self.settings = settings
        self.parser = parser
        self.encoder = encoder
        self.index = index
        self.stats = stats
        self.retriever = HybridRetriever(index, settings.retrieval)
        self.ranker = Ranker(settings.weights or parser.rules.ranking)

    # --- understanding, with the conversation ---
    def understand(self, query: str, history: list[Turn | str] | None = None) -> ParsedQuery:
        turns = [t if isinstance(t, Turn) else Turn(query=t) for t in (history or [])]
        parsed = [self.parser.parse(t.query) for t in turns] + [self.parser.parse(query)]
        current = parsed[-1]
        if current.references and turns and turns[-1].shown:
            self._resolve_reference(current, turns[-1].shown)
        merged = merge_turns(parsed) if len(parsed) > 1 else current
        if len(parsed) > 1:
            merged.raw, merged.normalized = current.raw, current.normalized
            merged.intent = current.intent if current.intent.value != "product_search" else parsed[0].intent
            self.parser.finish(merged)
        if merged.refinements and len(parsed) > 1:
            self._resolve_refinements(merged, turns, parsed[:-1])
        return merged

    def _resolve_reference(self, parsed: ParsedQuery, shown: list[str]) -> None:
        """'the third one but in black': that product's type and words, with the new constraints."""
        position = parsed.references[0]
        index = position - 1 if position > 0 else len(shown) - 1
        if not 0 <= index < len(shown):
            return
        found = self.index.get([shown[index]])
        if not found:
            return
        product = found[shown[index]][0]
        ptype = (product.get("product_type") or "").lower()
        if ptype and not parsed.types:
            parsed.types = {ptype: 1.0}
        parsed.keywords = list(dict.fromkeys([*product.get("title", "").lower().split(), *parsed.keywords]))
        colour = {c.term for c in parsed.positive("colors")}
        title = " ".join(w for w in product.get("title", "").split() if w.lower() not in {x.lower() for x in
                                                                                         product.get("colors", [])})
        parsed.semantic_text = " ".join([title, *colour])
        self.parser.finish(parsed)

    def _resolve_refinements(self, merged: ParsedQuery, turns: list[Turn], earlier: list[ParsedQuery]) -> None:
        """'cheaper ones': relative to the median price of what the previous turn showed."""
        shown = turns[-1].shown
        if shown:
            prices = [p.get("price") for p, _ in self.index.get(shown).values()]
        else:
            previous = merge_turns(earlier) if len(earlier) > 1 else earlier[0]
            self.parser.finish(previous)
            prices = [h.product.get("price") for h in self._run(previous, None, 10)[0]]
        prices = [p for p in prices if p]
        if not prices:
            return
        median = statistics.median(prices)
        rules = self.parser.rules.price_words.refinements
        for name in merged.refinements:
            rule = rules.get(name)
            if rule is None:
                continue
            price = merged.price.model_copy() if merged.price else PriceRange(source=name)
            if rule.max_factor_of_median:
                price.catalog_max = round(median * rule.max_factor_of_median, 2)
            if rule.min_factor_of_median:
                price.catalog_min = round(median * rule.min_factor_of_median, 2)
            price.hard = True
            merged.price = price

    # --- the search ---
    def search(self, query: str, history: list[Turn | str] | None = None, filters: dict[str, Any] | None = None,
               size: int = 10, page: int = 1, mode: Mode = "full") -> SearchResponse:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        parsed = self.understand(query, history) if mode == "full" else self.parser.parse(query)
        timings["understand"] = _ms(t0)
        extra = caller_filters(filters)
        hits, total = self._run(parsed, extra, size * page, timings, mode)
        t = time.perf_counter()
        facets = facets_for(hits) if mode == "full" else []
        timings["facets"] = _ms(t)
        timings["total"] = _ms(t0)
        start = (page - 1) * size
        return SearchResponse(search_id=uuid.uuid4().hex, query=query, hits=hits[start:start + size], facets=facets,
                              understanding=parsed, timings=timings, total=total, page=page, size=size, mode=mode)

    def _run(self, parsed: ParsedQuery, extra: FilterSpec | None, want: int, timings: dict | None = None,
             mode: Mode = "full") -> tuple[list[RankedHit], int]:
        timings = timings if timings is not None else {}
        t = time.perf_counter()
        text = parsed.semantic_text if mode == "full" else parsed.normalized
        vector = self.encoder.encode_query(text) if mode != "bm25" else None
        timings["embed"] = _ms(t)
        if mode == "full" and parsed.sub_queries:
            return self._run_items(parsed, extra, want, timings)
        if mode == "full":
            hard, soft = query_filters(parsed, self.stats)
            hard = hard.and_(extra)
            candidates = self._retrieve(parsed, vector, hard.and_(soft), timings)
            if len(candidates) < want and not soft.is_empty():  # "cheap" relaxes before results run out
                candidates = self._retrieve(parsed, vector, hard, timings)
            candidates = self._with_exact(parsed, candidates)
        else:
            candidates = self._baseline(parsed, vector, extra or FilterSpec(), mode, timings)
        t = time.perf_counter()
        top = candidates[:RANK_DEPTH]
        # Vectors only where no vector list already gave the cosine (the BM25-only candidates).
        need_vectors = {c.id for c in top if c.cosine is None} if mode == "full" else False
        products = self.index.get([c.id for c in top], with_vectors=need_vectors)
        timings["fetch"] = _ms(t)
        t = time.perf_counter()
        if mode == "full":
            hits = self.ranker.rank(parsed, top, products, vector)
        else:
            hits = [RankedHit(product=products[c.id][0], score=round(c.fused, 6),
                              explanation=Explanation(retrievers=c.ranks, fused=c.fused))
                    for c in top if c.id in products]
        timings["rank"] = _ms(t)
        return hits, len(hits)

    def rerank(self, query: str, ids: list[str], mode: Mode = "full", depth: int = 1000) -> list[str]:
        """Order only the given products (the re-ranking protocol): BM25 scores from a deep list, exact cosine."""
        parsed = self.understand(query) if mode == "full" else self.parser.parse(query)
        text = parsed.semantic_text if mode == "full" else parsed.normalized
        vector = self.encoder.encode_query(text)
        products = self.index.get(ids, with_vectors=True)
        bm25 = {s.id: s.score for s in self.index.bm25(parsed.normalized, depth, FilterSpec())}
        cosine = {i: float(v @ vector) for i, (_, v) in products.items() if v is not None}
        by_bm25 = sorted(products, key=lambda i: (-bm25.get(i, 0.0), -cosine.get(i, 0.0)))
        by_vector = sorted(products, key=lambda i: -cosine.get(i, 0.0))
        if mode == "bm25":
            return by_bm25
        if mode == "vector":
            return by_vector
        fused = reciprocal_rank_fusion({"bm25": [Scored(id=i, score=bm25.get(i, 0.0)) for i in by_bm25],
                                        "vector": [Scored(id=i, score=cosine.get(i, 0.0)) for i in by_vector]},
                                       {}, self.settings.retrieval.rrf_k)
        if mode == "rrf":
            return [c.id for c in fused]
        ranked = [h.product["id"] for h in self.ranker.rank(parsed, fused, products, vector)]
        kept = set(ranked)
        return ranked + [c.id for c in fused if c.id not in kept]  # hard-constraint violators go last, not away

    def _run_items(self, parsed: ParsedQuery, extra: FilterSpec | None, want: int,
                   timings: dict) -> tuple[list[RankedHit], int]:
        """'a jacket and boots': each item searched on its own, results interleaved so all items show."""
        per_item = [self._run(sub, extra, want, {}, "full")[0] for sub in parsed.sub_queries]
        hits, seen = [], set()
        for round_ in range(max(len(h) for h in per_item)):
            for item in per_item:
                if round_ < len(item) and item[round_].product.get("id") not in seen:
                    seen.add(item[round_].product.get("id"))
                    hits.append(item[round_])
        return hits, len(hits)

    def _retrieve(self, parsed: ParsedQuery, vector: np.ndarray | None, where: FilterSpec,
                  timings: dict) -> list[Candidate]:
        t = time.perf_counter()
        lists = {}
        lists.update(self.retriever.lists(parsed, None, where, use=("bm25", "type_bm25")))
        timings["retrieve_bm25"] = _ms(t)
        t = time.perf_counter()
        lists.update(self.retriever.lists(parsed, vector, where, use=("vector", "type_vector", "brand_vector")))
        timings["retrieve_vector"] = _ms(t)
        t = time.perf_counter()
        fused = self.retriever.fuse(lists)
        timings["fuse"] = _ms(t)
        return fused

    def _with_exact(self, parsed: ParsedQuery, candidates: list[Candidate]) -> list[Candidate]:
        exact = self.retriever.exact_hits(parsed)
        if not exact:
            return candidates
        rest = [c for c in candidates if c.id not in exact]
        return [Candidate(id=i, exact=True, fused=1.0) for i in exact] + rest

    def _baseline(self, parsed: ParsedQuery, vector, where: FilterSpec, mode: Mode, timings: dict) -> list[Candidate]:
        """Ablations: plain BM25, plain vector, or both fused by unweighted RRF; the raw query, no rules."""
        n = self.settings.retrieval.candidates
        lists = {}
        t = time.perf_counter()
        if mode in ("bm25", "rrf"):
            lists["bm25"] = self.index.bm25(parsed.normalized, n, where)
        timings["retrieve_bm25"] = _ms(t)
        t = time.perf_counter()
        if mode in ("vector", "rrf"):
            lists["vector"] = self.index.knn(vector, n, where)
        timings["retrieve_vector"] = _ms(t)
        t = time.perf_counter()
        fused = reciprocal_rank_fusion(lists, {}, self.settings.retrieval.rrf_k)
        timings["fuse"] = _ms(t)
        return fused


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
