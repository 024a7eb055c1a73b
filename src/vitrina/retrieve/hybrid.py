"""Hybrid retrieval: BM25 and vector lists under the same pre-filters, plus type- and brand-focused
lists when the query names them, fused by weighted RRF; exact id hits are always kept."""

from __future__ import annotations

import numpy as np

from vitrina.config import RetrievalSettings
from vitrina.index.protocol import FilterSpec, Match, ProductIndex, Scored
from vitrina.retrieve.fusion import reciprocal_rank_fusion
from vitrina.retrieve.models import Candidate
from vitrina.understand.models import ParsedQuery

RETRIEVERS = ("bm25", "vector", "type_vector", "type_bm25", "brand_vector")


class HybridRetriever:
    def __init__(self, index: ProductIndex, settings: RetrievalSettings):
        self.index = index
        self.settings = settings

    def lists(self, parsed: ParsedQuery, vector: np.ndarray | None, where: FilterSpec,
              use: tuple[str, ...] = RETRIEVERS) -> dict[str, list[Scored]]:
        n = self.settings.candidates
        out: dict[str, list[Scored]] = {}
        if "bm25" in use and parsed.keyword_query:
            out["bm25"] = self.index.bm25(parsed.keyword_query, n, where)
        if "vector" in use and vector is not None:
            out["vector"] = self.index.knn(vector, n, where)
        asked = sorted(t for t, g in parsed.types.items() if g >= 1)
        if asked:
            typed = where.and_(FilterSpec(must=[Match(field="type", values=asked)]))
            if "type_vector" in use and vector is not None:
                out["type_vector"] = self.index.knn(vector, n, typed)
            if "type_bm25" in use and parsed.keyword_query:
                out["type_bm25"] = self.index.bm25(parsed.keyword_query, n, typed)
        brands = sorted({v for c in parsed.positive("brands") for v in c.values})
        if brands and "brand_vector" in use and vector is not None:
            branded = where.and_(FilterSpec(must=[Match(field="brand", values=brands)]))
            out["brand_vector"] = self.index.knn(vector, n, branded)
        return out

    def fuse(self, lists: dict[str, list[Scored]]) -> list[Candidate]:
        s = self.settings
        weights = {"bm25": s.bm25_weight, "vector": s.vector_weight, "type_vector": s.category_weight,
                   "type_bm25": s.category_weight * s.bm25_weight / s.vector_weight, "brand_vector": s.category_weight}
        return reciprocal_rank_fusion(lists, weights, s.rrf_k)

    def exact_hits(self, parsed: ParsedQuery) -> list[str]:
        """Ids typed verbatim (SKU search): looked up directly, never lost to ranking."""
        tokens = [t for t in parsed.raw.replace(",", " ").split() if len(t) >= 3]
        return list(self.index.get(tokens)) if tokens else []
