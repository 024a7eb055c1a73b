"""SearchPipeline: the one place where the stages are composed.

    understand (rules + conversation) -> route (help, shown products, search) -> embed -> retrieve (pre-filtered
    lists, RRF) -> rank: first phase (signals, hard re-check) -> later phases (top only, budgeted) -> facets

Every stage is injected through a small Protocol, so a new one (LLM understanding, learned or cross-encoder
re-ranking, image lists) plugs in without touching this file; a ranking profile (rank/profiles.py) says which
lists, signals and phases a search uses.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, Field

from vitrina.catalog.stats import CatalogStats
from vitrina.config import Settings
from vitrina.converse.history import Turn
from vitrina.embed.cache import CachedEncoder
from vitrina.index.protocol import FilterSpec, Match, ProductIndex, Scored
from vitrina.personalize.phase import PHASE_NAME as PERSONAL
from vitrina.personalize.profile import ShopperProfile
from vitrina.rank.facets import Facet, facets_for
from vitrina.rank.models import Explanation, RankedHit
from vitrina.rank.profiles import PhaseSpec, RankProfile
from vitrina.rank.ranker import PhaseReport, RankPhase, run_phases
from vitrina.rank.signals import RankContext
from vitrina.recommend.models import Outfit, OutfitRules
from vitrina.retrieve.filters import caller_filters, query_filters
from vitrina.retrieve.fusion import reciprocal_rank_fusion
from vitrina.retrieve.hybrid import LEXICAL, TYPE_LISTS, RetrievalRequest, Retrieved
from vitrina.retrieve.models import Candidate
from vitrina.understand.lexicon import RELATED
from vitrina.understand.models import Intent, ParsedQuery
from vitrina.understand.parser import WORN_WITH, QueryParser

Confidence = Literal["high", "low", "none"]
Route = Literal["search", "help", "shown"]
HELP_MESSAGE = ("This reads as a question for the shop (orders, returns, delivery, payment), not a product search: "
                "the shop's help pages answer it.")
NO_MATCH_MESSAGE = "No product matches these words; try other words or fewer filters."


# --- the stages, as the pipeline sees them ---
class Understander(Protocol):
    """Reads a query, with the conversation before it, into a ParsedQuery."""
    parser: QueryParser

    def understand(self, query: str, history: Sequence[Turn] = ()) -> ParsedQuery: ...


class Retriever(Protocol):
    """Finds candidates for a query: lists under pre-filters, fused."""
    def retrieve(self, request: RetrievalRequest) -> Retrieved: ...

    def uses_vectors(self) -> bool: ...


class FirstPhase(Protocol):
    """Scores every fused candidate; drops those a hard filter excludes."""
    def rank(self, context: RankContext, candidates: list[Candidate],
             products: dict[str, tuple[dict, np.ndarray | None]]) -> list[RankedHit]: ...


class WordsOnly:
    """The Understander of the ablation profiles: this turn's words, no conversation."""

    def __init__(self, parser: QueryParser):
        self.parser = parser

    def understand(self, query: str, history: Sequence[Turn] = ()) -> ParsedQuery:
        return self.parser.parse(query)


class SearchResponse(BaseModel):
    """What a search returns, the same over HTTP and from `vitrina search --json`."""
    search_id: str
    query: str
    hits: list[RankedHit]
    facets: list[Facet] = Field(default_factory=list)
    understanding: ParsedQuery
    timings: dict[str, float] = Field(default_factory=dict)  # stage -> milliseconds
    total: int = 0  # products that match the query and pass every filter
    total_relation: Literal["eq", "gte"] = "eq"  # "gte": more matches lie beyond the ranked window
    confidence: Confidence = "high"  # high: words or types matched; low: only by meaning; none: nothing matched
    route: Route = "search"
    message: str | None = None
    phases: list[PhaseReport] = Field(default_factory=list)
    page: int = 1
    size: int = 10
    profile: str = "full"
    experiment: dict[str, str] | None = None  # {"experiment", "variant"}: the A/B test this search was part of
    outfit: Outfit | None = None  # for an outfit request ("an outfit for a beach wedding"): a complete look


class Ranked(BaseModel):
    hits: list[RankedHit]
    total: int
    exhausted: bool = True
    phases: list[PhaseReport] = Field(default_factory=list)


@contextmanager
def stage(timings: dict[str, float], name: str) -> Iterator[None]:
    """Adds the block's milliseconds to timings[name]."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(timings.get(name, 0.0) + (time.perf_counter() - started) * 1000, 3)


class SearchPipeline:
    """One ranking profile's stages, composed: understand, route, retrieve, rank in phases, facets."""
    def __init__(self, settings: Settings, profile: RankProfile, understander: Understander, retriever: Retriever,
                 ranker: FirstPhase, index: ProductIndex, encoder: CachedEncoder, stats: CatalogStats,
                 phases: Mapping[str, RankPhase] | None = None, outfit_rules: OutfitRules | None = None):
        self.settings = settings
        self.outfit_rules = outfit_rules  # what goes with what: the hits of "what goes with black jeans"
        self.profile = profile
        self.understander = understander
        self.retriever = retriever
        self.ranker = ranker
        self.index = index
        self.encoder = encoder
        self.stats = stats
        self.phases = dict(phases or {})

    def search(self, query: str, history: Sequence[Turn] = (), filters: dict[str, Any] | None = None,
               size: int = 10, page: int = 1, shopper: ShopperProfile | None = None,
               lists: int | None = None) -> SearchResponse:
        """A page of ranked hits with the understanding, facets, timings, total and confidence. `lists`: how deep
        each retrieval list reads (default: the settings' candidates, deeper where the page asks for more). Raises
        FilterError for a bad caller filter and ValueError past the result window."""
        want = size * page
        if want > self.settings.max_result_window:
            raise ValueError(f"page x size = {want} is past the result window of {self.settings.max_result_window}")
        timings: dict[str, float] = {}
        started = time.perf_counter()
        extra = caller_filters(filters)  # a bad filter fails before any work
        with stage(timings, "understand"):
            parsed = self.understander.understand(query, history)
        response = SearchResponse(search_id=uuid.uuid4().hex, query=query, hits=[], understanding=parsed,
                                  page=page, size=size, profile=self.profile.name)
        shown = history[-1].shown if history else []
        if parsed.intent == Intent.help and self.profile.understanding == "conversation":
            response.route, response.message, response.confidence = "help", HELP_MESSAGE, "none"
        elif parsed.references and parsed.intent in (Intent.details, Intent.comparison) and shown:
            response.route = "shown"
            response.hits = self._shown(parsed, shown)
            response.total = len(response.hits)
        else:
            goes, whose = self._what_goes_with(parsed, [*(t.query for t in history), query])
            ranked = self._run(goes, extra.and_(whose), want, timings, shopper, lists)
            start = (page - 1) * size
            response.hits, response.total, response.phases = ranked.hits[start:start + size], ranked.total, ranked.phases
            response.total_relation = "eq" if ranked.exhausted else "gte"
            response.confidence = self._confidence(ranked.hits[:want])
            if response.confidence == "none":
                response.message = NO_MATCH_MESSAGE
            if self.profile.facets:
                with stage(timings, "facets"):
                    response.facets = facets_for(ranked.hits, parsed.llm.facets if parsed.llm else None)
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        response.timings = timings
        return response

    def _what_goes_with(self, parsed: ParsedQuery, turns: list[str]) -> tuple[ParsedQuery, FilterSpec]:
        """'what goes with black jeans', 'something to wear with jeans to college': the hits are what goes with
        them (a top first, then shoes and accessories), not more jeans. What the shopper has still says whom and
        when for (its gender, occasion, season; a dress is a woman's or a girl's where the catalog sells dresses to
        them alone), not the colour or fabric of what goes with it. The understanding the response reports, and
        the outfit built from it, keep the types the shopper named."""
        rules, none = self.outfit_rules, FilterSpec()
        if (rules is None or parsed.intent != Intent.outfit or parsed.types_implied or parsed.sub_queries
                or not rules.complementing(turns, self.understander.parser.parse)):
            return parsed, none
        sold = self.stats.values.get("type", {})
        named = [t for t, grade in parsed.types.items() if grade >= 1]
        parser = self.understander.parser
        kept = [c for c in parsed.constraints if c.vocabulary in (*WORN_WITH, "ages") or c.negated]
        with_them = {t: grade for t, grade in rules.goes_with(named).items() if t in sold or not sold}
        occasion = None if parsed.positive("occasions") else self.stats.occasion_of(named)
        worn_for = parser.occasion_term(occasion)
        if worn_for:  # what they have is worn for one occasion (a blazer: formal): so is what goes with it
            implied = parser.occasion_constraint(worn_for, " ".join(named))
            kept.append(implied)
            if occasion != self.stats.usual_occasion():  # a casual dress narrows nothing
                with_them = parser.narrowed_by_occasions(with_them, [implied.model_copy(update={"implied": False})])
        types = parser.narrowed_by_occasions(with_them, kept)  # grey trousers to the office: shirts
        if not types:
            return parsed, none
        whose = [] if parsed.positive("genders") else self.stats.genders_of(named)
        gender = self.stats.gender_of(named)
        if gender:  # a dress's shoes: heels and flats; a shirt's trousers, not the formal shoes the look ends with
            types = parser.favouring(types, gender, least=RELATED)
        # The vector reads whom and when for, and the first slot's most usual type ("jeans" for a shirt)
        words = [c.term for c in kept if not c.negated and not c.implied]
        words += [t for t, grade in types.items() if grade >= 1][:1]
        goes = parsed.model_copy(update={"types": types, "types_implied": True, "constraints": kept,
                                         "keyword_query": "", "semantic_text": " ".join(dict.fromkeys(words))})
        return goes, FilterSpec(must=[Match(field="gender", values=whose)]) if whose else none

    def _shown(self, parsed: ParsedQuery, shown: list[str]) -> list[RankedHit]:
        """'details of the second one', 'compare the first and third': the shown products themselves."""
        picks = [shown[p - 1] if p > 0 else shown[-1] for p in parsed.references if -1 <= p <= len(shown) and p]
        found = self.index.get(list(dict.fromkeys(picks)))
        return [RankedHit(product=found[pid][0], score=1.0, explanation=Explanation(
            matches=[f"result {shown.index(pid) + 1} you asked about"])) for pid in dict.fromkeys(picks) if pid in found]

    def _run(self, parsed: ParsedQuery, extra: FilterSpec, want: int, timings: dict[str, float],
             shopper: ShopperProfile | None = None, lists: int | None = None) -> Ranked:
        if parsed.sub_queries and self.profile.understanding == "conversation":
            return self._run_items(parsed, extra, want, shopper, lists)
        words = self.profile.understanding == "words"
        personal = shopper is not None and shopper.known and PERSONAL in self.phases
        with stage(timings, "embed"):
            text = parsed.normalized if words else parsed.semantic_text
            vector = self.encoder.encode_query(text) if self.retriever.uses_vectors() else None
            if vector is not None and personal and shopper is not None and shopper.vector is not None:
                vector = self._nudged(vector, np.asarray(shopper.vector, dtype=np.float32))
        hard, soft = query_filters(parsed, self.stats) if self.profile.query_filters else (FilterSpec(), FilterSpec())
        hard = hard.and_(extra)
        retrieved = self.retriever.retrieve(RetrievalRequest(
            parsed=parsed, keyword_text=parsed.normalized if words else parsed.keyword_query, vector=vector,
            hard=hard, soft=soft, want=want, per_list=lists or max(self.settings.retrieval.candidates, want),
            exact_ids=self.profile.exact_ids, min_cosine=self.profile.min_cosine))
        timings.update(retrieved.timings)
        with stage(timings, "fetch"):
            top = retrieved.candidates[:max(self.settings.retrieval.rank_depth, want)]
            products = self.index.get([c.id for c in top])
            # The cosine, scored by the index, only where no vector list already gave it (BM25-only candidates).
            need = [c.id for c in top if c.cosine is None] if "semantic" in self.profile.signals else []
            cosines = self.index.cosines(vector, need) if need and vector is not None else {}
            by_meaning = self._meaning_counts(parsed)
            top = [c for c in top if c.id in products and self._matches(c, products[c.id][0], parsed, by_meaning)]
        context = RankContext(parsed=parsed, query_vector=vector, hard=hard, shopper=shopper if personal else None,
                              cosines=cosines)
        with stage(timings, "rank"):
            hits = self.ranker.rank(context, top, products)
        reports: list[PhaseReport] = []
        specs = self.profile.phases
        if personal:  # the shopper's phase last: it orders what the query ranks alike
            mine = self.settings.personalization
            specs = [*specs, PhaseSpec(name=PERSONAL, depth=mine.depth, budget_ms=mine.budget_ms)]
        if specs:
            with stage(timings, "phases"):
                hits, reports = run_phases(context, hits, specs, self.phases)
        exhausted = retrieved.exhausted and len(retrieved.candidates) <= max(self.settings.retrieval.rank_depth, want)
        return Ranked(hits=hits, total=len(hits), exhausted=exhausted, phases=reports)

    def _nudged(self, query: np.ndarray, shopper: np.ndarray) -> np.ndarray:
        """The query vector moved a bounded step toward the shopper's interaction embedding."""
        mine = self.settings.personalization
        step = min(1.0, mine.query_nudge * mine.strength)
        moved = (1 - step) * query + step * shopper
        return (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)

    @staticmethod
    def _meaning_counts(parsed: ParsedQuery) -> bool:
        """Whether closeness of meaning may make a match. Words no rule, catalog or dictionary knows ("xyzzy
        qwertyuiop") still have nearest neighbours, at cosines real queries' matches also have (0.3-0.4 on the
        fashion catalog): with nothing else understood, meaning alone matches nothing. A default no words implied
        (a grown-up's wear, where no one is named) is nothing understood."""
        understood = any(not c.default for c in parsed.constraints) or parsed.types or parsed.price
        gibberish = bool(parsed.keywords) and set(parsed.keywords) <= set(parsed.unknown) and not understood
        return not gibberish

    def _matches(self, c: Candidate, product: dict, parsed: ParsedQuery, by_meaning: bool) -> bool:
        """Whether a candidate matches the query at all: by a word, by a typed id, by its type, or by meaning
        close enough (the profile's min_cosine). Vectors always return neighbours; a nonsense query has none."""
        if c.exact or any(name in c.ranks for name in LEXICAL) or self.profile.min_cosine <= -1:
            return True
        grade = parsed.types.get((product.get("product_type") or "").lower(), 0.0)
        if grade >= 1 or (grade > 0 and any(name in c.ranks for name in TYPE_LISTS)):
            return True  # a type asked for, or a related one the type lists read where none asked for is sold
        return by_meaning and c.cosine is not None and c.cosine >= self.profile.min_cosine

    def _confidence(self, hits: list[RankedHit]) -> Confidence:
        if not hits:
            return "none"
        lexical = any(h.explanation.boosts or any(n in h.explanation.retrievers for n in LEXICAL) for h in hits)
        typed = any(any(m.startswith("type: ") and not m.endswith("(related)") for m in h.explanation.matches)
                    for h in hits)
        return "high" if lexical or typed or not self.profile.signals else "low"

    def _run_items(self, parsed: ParsedQuery, extra: FilterSpec, want: int,
                   shopper: ShopperProfile | None = None, lists: int | None = None) -> Ranked:
        """'a jacket and boots': each item searched on its own, results interleaved so all items show."""
        per_item = [self._run(sub, extra, want, {}, shopper, lists) for sub in parsed.sub_queries]
        hits: list[RankedHit] = []
        seen: set[str] = set()
        for round_ in range(max((len(r.hits) for r in per_item), default=0)):
            for item in per_item:
                if round_ < len(item.hits) and item.hits[round_].product["id"] not in seen:
                    seen.add(item.hits[round_].product["id"])
                    hits.append(item.hits[round_])
        return Ranked(hits=hits, total=len(hits), exhausted=all(r.exhausted for r in per_item))

    def top_prices(self, parsed: ParsedQuery, n: int = 10) -> list[float]:
        """Prices of what a query shows first: what 'cheaper' means after a turn whose results were not sent."""
        return [h.product["price"] for h in self._run(parsed, FilterSpec(), n, {}).hits[:n] if h.product.get("price")]

    def rerank(self, query: str, ids: list[str], depth: int = 1000) -> list[str]:
        """Order only the given products (the re-ranking protocol): BM25 scores from a deep list under the same
        pre-filters, exact cosine; products a hard constraint excludes go last, not away."""
        parsed = self.understander.understand(query)
        words = self.profile.understanding == "words"
        vector = self.encoder.encode_query(parsed.normalized if words else parsed.semantic_text)
        hard = query_filters(parsed, self.stats)[0] if self.profile.query_filters else FilterSpec()
        products = self.index.get(ids, with_vectors=True)
        text = parsed.normalized if words else parsed.keyword_query
        bm25 = {s.id: s.score for s in self.index.bm25(text, depth, hard)}
        cosine = {i: float(v @ vector) for i, (_, v) in products.items() if v is not None}
        by_bm25 = sorted(products, key=lambda i: (-bm25.get(i, 0.0), -cosine.get(i, 0.0)))
        by_vector = sorted(products, key=lambda i: -cosine.get(i, 0.0))
        lists = {}
        if any(name in LEXICAL for name in self.profile.retrievers):
            lists["bm25"] = [Scored(id=i, score=bm25.get(i, 0.0)) for i in by_bm25]
        if any(name not in LEXICAL for name in self.profile.retrievers):
            lists["vector"] = [Scored(id=i, score=cosine.get(i, 0.0)) for i in by_vector]
        fused = reciprocal_rank_fusion(lists, {}, self.settings.retrieval.rrf_k)
        if not self.profile.signals:
            return [c.id for c in fused]
        context = RankContext(parsed=parsed, query_vector=vector, hard=hard)
        ranked = [h.product["id"] for h in self.ranker.rank(context, fused, products)]
        kept = set(ranked)
        return ranked + [c.id for c in fused if c.id not in kept]
