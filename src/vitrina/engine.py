"""The Engine: one index directory, opened for ingest and search; it wires the stages into pipelines."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ValidationError

from vitrina import heap
from vitrina.catalog.embedding_text import embedding_text
from vitrina.catalog.enrich import Enricher, EnrichPrompt
from vitrina.catalog.feeds import Feed
from vitrina.catalog.product import Product
from vitrina.catalog.registry import make_feed
from vitrina.catalog.stats import CatalogStats
from vitrina.catalog.validate import IngestReport, RowError, errors_of, validate_rows
from vitrina.config import Settings
from vitrina.converse.history import Turn
from vitrina.converse.resolve import ConversationResolver
from vitrina.embed.cache import CachedEncoder, VectorCache
from vitrina.embed.encoder import Encoder
from vitrina.embed.registry import make_encoder
from vitrina.index.backends import make_backend
from vitrina.index.documents import index_doc
from vitrina.index.protocol import ProductIndex
from vitrina.index.store import IndexStore
from vitrina.learn.tuning.blend import Blend
from vitrina.learn.tuning.registry import ModelRegistry, ModelSwitch
from vitrina.llm.client import ChatClient
from vitrina.personalize.phase import PHASE_NAME as PERSONAL
from vitrina.personalize.phase import PersonalPhase
from vitrina.personalize.profile import Interaction, ShopperProfile, build_profile
from vitrina.pipeline import SearchPipeline, SearchResponse, Understander, WordsOnly
from vitrina.rank.cross_encoder import PHASE_NAME as CROSS_ENCODER
from vitrina.rank.cross_encoder import CrossEncoderPhase, OnnxCrossEncoder
from vitrina.rank.learned_order import PHASE_NAME as LEARNED_ORDER
from vitrina.rank.learned_order import LearnedOrderModel, LearnedOrderPhase, StaleOrderModel
from vitrina.rank.llm_rerank import PHASE_NAME, LLMRerankPhase
from vitrina.rank.models import RankedHit
from vitrina.rank.profiles import PhaseSpec, RankingProfiles, RankProfile, load_profiles
from vitrina.rank.ranker import RankPhase, SignalRanker
from vitrina.recommend.models import Outfit, OutfitRules
from vitrina.recommend.outfit import OutfitBuilder
from vitrina.response_cache import ResponseCache
from vitrina.retrieve.filters import caller_filters
from vitrina.retrieve.hybrid import IMAGE_LISTS, HybridRetriever
from vitrina.swap_guard import SwapGuard
from vitrina.understand.llm import LLMUnderstander, MeaningSupport, QueryReader, ReadingPrompt
from vitrina.understand.models import Intent, ParsedQuery
from vitrina.understand.parser import QueryParser
from vitrina.understand.rules import load_rules, rule_files, validated
from vitrina.vision.encoder import OnnxImageEncoder
from vitrina.vision.images import fetch_photos, read_images
from vitrina.vision.photos import ImageAttach, PhotoEmbedder, colour_fills
from vitrina.vision.readers import PhotoQuery, PhotoReader
from vitrina.vision.search import PhotoSearchResponse, photo_hits, response, similar_hits

Progress = Callable[[str, int, int | None], None]  # (stage, advance, total)


class VectorFill(BaseModel):
    missing: int = 0  # products without a vector when the fill began
    filled: int = 0
    embedded: int = 0  # of those, encoded now (the rest came from the vector cache)
    generations: int = 0  # batches published
    seconds: float = 0.0


class EmptyIndexError(RuntimeError):
    """A search on an index nothing was ingested into yet."""
    pass


def as_turns(history: Sequence[Turn | str | dict] | None) -> list[Turn]:
    """A conversation's earlier turns as given (query strings, dicts or Turns), as Turns."""
    return [Turn(query=t) if isinstance(t, str) else Turn.model_validate(t) if isinstance(t, dict) else t
            for t in (history or [])]


class Engine:
    """Light to construct; the encoder loads on first use. Give `encoder` to share one model between engines
    (the service shares one per process); give `phases` to plug later ranking phases in by name."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None,
                 phases: dict[str, RankPhase] | None = None, llm: ChatClient | None = None):
        self.settings = settings
        self.path = Path(settings.index_path)
        self.store = IndexStore(self.path, make_backend(settings))
        self.rules = load_rules(settings.domain, settings.rules_path)
        self.profiles: RankingProfiles = load_profiles(settings.domain, settings.rules_path)
        self.profiles.get(settings.ranking_profile)  # an unknown default profile fails now, not at the first search
        self.phases = dict(phases or {})
        self._shared_encoder = encoder
        self._encoder: CachedEncoder | None = None
        self._photos: PhotoEmbedder | None = None
        self._reader: ProductIndex | None = None
        self._parser: QueryParser | None = None
        self._has_photos: bool | None = None  # whether the live generation has photo vectors (asked once)
        # by (profile, the index's trained phases it runs): training those phases reads the order without them
        self._pipelines: dict[tuple[str, tuple[str, ...]], SearchPipeline] = {}
        self._shared_llm = llm
        self._llm: ChatClient | None = None
        self._query_reader: QueryReader | None = None
        self._support: MeaningSupport | None = None
        self._llm_rerank: LLMRerankPhase | None = None
        # the serving cross-encoder's graph, one for every profile: its passes see each other (rank/cross_encoder.py)
        self._cross_encoder: tuple[str, OnnxCrossEncoder] | None = None
        self._learned_order: tuple[str, LearnedOrderModel] | None = None  # ... and the serving learned order's model
        self.stats = CatalogStats()
        self._responses = ResponseCache(settings.response_cache_size, int(settings.response_cache_mb * 2**20))
        self._guard = SwapGuard()  # searches side by side; a new generation swapped in between them
        self.models = ModelRegistry(self.path)
        self._model_version: str | None = None  # the live generation's own encoder version, if it has one
        self._blend: Blend | None = None  # ... and how the ranking profiles weigh its meaning (tuning/blend.py)
        self._generation = 0  # the generation searches read
        self._open_reader()

    # --- plumbing ---
    @property
    def encoder(self) -> CachedEncoder:
        """The encoder of the live generation's vectors: its own fine-tuned version when it names one (checked
        against its hash), else the shared or configured one."""
        if self._encoder is None:
            self._encoder = self._cached_encoder(self._model_version)
        return self._encoder

    @property
    def reopens_alike(self) -> bool:
        """Whether opening this index with these settings in another process gives the same searches: nothing
        (an encoder, phases, an LLM client) was plugged into this engine in code."""
        return self._shared_encoder is None and not self.phases and self._shared_llm is None

    @property
    def model_version(self) -> str | None:
        return self._model_version

    def _cached_encoder(self, version: str | None) -> CachedEncoder:
        cache = VectorCache(self.settings.encoder.cache_path or self.path / "vectors.sqlite")
        if version is None:
            encoder = self._shared_encoder or make_encoder(self.settings.encoder)
        else:
            encoder = make_encoder(self.models.encoder_settings(version, self.settings.encoder))
        return CachedEncoder(encoder, cache, self.settings.encoder.query_cache_size)

    @property
    def photos(self) -> PhotoEmbedder:
        """The image tower (settings.images.model_path, else the packaged fashion one), cached by photo bytes."""
        if self._photos is None:
            cache = VectorCache(self.settings.encoder.cache_path or self.path / "vectors.sqlite")
            self._photos = PhotoEmbedder(OnnxImageEncoder(self.settings.images.model_path, self.settings.search_threads,
                                                          self.settings.images.batch), cache)
        return self._photos

    @property
    def llm(self) -> ChatClient | None:
        """The LLM client when the LLM layer is on (settings.llm.enabled), made on first use."""
        return self._client() if self.settings.llm.enabled else None

    def _client(self) -> ChatClient:
        """The LLM client (the shared one, or this index's own, answers cached beside it), made once."""
        if self._llm is None:
            self._llm = self._shared_llm or ChatClient(self.settings.llm, cache_path=self.path / "llm.sqlite")
        return self._llm

    def enricher(self, hide: Iterable[str] = ()) -> Enricher:
        """LLM enrichment for this catalog (settings.llm; on whether or not searches use the LLM)."""
        return Enricher(self._client(), EnrichPrompt(self.parser(), self.settings.domain, hide))

    def llm_ready(self, timeout: float | None = None) -> bool:
        """Wait until the LLM layer's one-off set-up for this catalog is done (the meaning check's vectors of the
        catalog's types and terms, made by a thread: a few seconds of the encoder); True at once with the LLM off."""
        if self.query_reader() is None or self._support is None:
            return True
        return self._support.wait_built(timeout)

    def llm_stats(self) -> dict[str, float]:
        """The LLM client's counters, if it was made (empty otherwise)."""
        return self._llm.stats.snapshot() if self._llm is not None else {}

    def _open_reader(self) -> None:
        """Swap in the live generation: searches under way finish on the old one first, none sees half a swap.
        A generation made by another model version brings that version's encoder with it."""
        reader, stats, meta = self.store.open_reader(), self.store.stats(), self.store.meta()
        version = meta.model_version if meta else None
        encoder = self._cached_encoder(version) if version != self._model_version and self._encoder else None
        with self._guard.swapping():
            old, self._reader, self.stats = self._reader, reader, stats
            self._generation = meta.generation if meta else 0
            if version != self._model_version:
                old_encoder, self._encoder, self._model_version = self._encoder, encoder, version
                if old_encoder is not None and old_encoder.cache is not None:
                    old_encoder.cache.close()
            self._blend = self.models.blend(version) if version else None
            self._parser, self._has_photos = None, None
            self._pipelines.clear()
            query_reader, self._query_reader = self._query_reader, None
            support, self._support = self._support, None
            self._responses.clear()  # cached answers belong to the index they came from
        if old is not None:
            old.close()
        if query_reader is not None:
            query_reader.close()
        if support is not None:
            support.close()
        if self.settings.warm_on_open:
            self.warm()

    def warm(self) -> None:
        """Make the first search as fast as the next: build the default pipeline and the spelling index, load the
        query encoder and the serving cross-encoder's graph (timing its pass, rank/cross_encoder.py) and touch both
        retrievers, then settle the heap (vitrina.heap). No search is run, so no LLM is asked and nothing is logged."""
        with self._guard.reading():
            if self._reader is not None:
                self.parser().speller.prepare()
                self.pipeline()
                if self._cross_encoder is not None:  # made by the pipeline where a cross-encoder serves
                    self._cross_encoder[1].warm()
                self._reader.knn(self.encoder.encode_query("warm up"), 1)
                self._reader.bm25("warm up", 1)
        heap.settle(self.settings.gc_young_threshold)

    def use_blend(self, blend: Blend) -> None:
        """Weigh the serving model version's meaning by `blend` from the next search on, and keep it with the
        version (a rollback to another version brings that one's own)."""
        if self._model_version is None:
            raise ValueError("a blend belongs to a trained model version; this index serves the configured encoder")
        self.models.save_blend(self._model_version, blend)
        self.refresh()

    def set_profile(self, name: str, profile: RankProfile | None) -> None:
        """Serve `profile` under `name` from the next search on (None: remove it), e.g. a trial weighting."""
        with self._guard.swapping():
            if profile is None:
                self.profiles.profiles.pop(name, None)
            else:
                self.profiles.profiles[name] = profile.model_copy(update={"name": name})
            for key in [key for key in self._pipelines if key[0] == name]:
                del self._pipelines[key]
            self._responses.clear()

    def use_reranker(self, version: str | None) -> None:
        """Re-rank the top hits with a cross-encoder version (None: stop); the next search uses it."""
        self.models.use_reranker(version)
        with self._guard.swapping():
            self._pipelines.clear()
            self._responses.clear()

    def use_order(self, version: str | None) -> None:
        """Re-order the top hits with a learned order version (None: stop); the next search uses it."""
        self.models.use_order(version)
        with self._guard.swapping():
            self._pipelines.clear()
            self._responses.clear()

    def _order_model(self, version: str) -> LearnedOrderModel:
        if self._learned_order is None or self._learned_order[0] != version:
            self._learned_order = (version, LearnedOrderModel(self.models.model_path(version)))
        return self._learned_order[1]

    def _reranker_graph(self, version: str, max_length: int) -> OnnxCrossEncoder:
        """The cross-encoder version's graph, shared by the profiles' pipelines (made when first asked for)."""
        if self._cross_encoder is None or self._cross_encoder[0] != version:
            onnx, tokenizer = self.models.files(version)
            self._cross_encoder = (version, OnnxCrossEncoder(onnx, tokenizer, self.settings.tuning.rerank_threads,
                                                             max_length))
        return self._cross_encoder[1]

    def refresh(self) -> bool:
        """Swap in a generation another process published (a training run's re-embedding), or the blend a training
        run fitted after publishing its version; True if either changed. Writes call it first, so they build on the
        newest generation with its model."""
        meta = self.store.meta()
        if meta is None:
            return False
        if meta.generation != self._generation:
            self._open_reader()
            return True
        blend = self.models.blend(self._model_version) if self._model_version else None
        if blend == self._blend:
            return False
        with self._guard.swapping():
            self._blend = blend
            self._pipelines.clear()
            self._responses.clear()
        return True

    def has_generation(self) -> bool:
        """Whether a catalog has been published and opened here (False before the first ingest)."""
        return self._reader is not None

    def parser(self) -> QueryParser:
        """The rules parser of the live generation (its catalog's types, brands and words)."""
        if self._parser is None:
            outfits = self.outfit_rules
            self._parser = QueryParser(self.rules, self.stats, self.settings.max_query_chars,
                                       outfits.slot_of if outfits is not None else None)
        return self._parser

    def query_reader(self) -> QueryReader | None:
        """The LLM's reader of queries for this generation's catalog, or None with the LLM off."""
        client = self.llm
        if client is None:
            return None
        if self._query_reader is None:
            llm, parser = self.settings.llm, self.parser()
            self._support = MeaningSupport(self.encoder.encode_query, self.encoder.cached_query, parser,
                                           llm.support_rank, llm.support_min_cosine, llm.ground_min_cosine)
            self._query_reader = QueryReader(client, ReadingPrompt(parser, self.settings.domain), llm.queue_size,
                                             self._support.prepare, defer=llm.budget_ms == 0)
        return self._query_reader

    def pipeline(self, profile: str | None = None,
                 trained: tuple[str, ...] = (LEARNED_ORDER, CROSS_ENCODER)) -> SearchPipeline:
        """The pipeline of a ranking profile (default: settings.ranking_profile), built on first use; `trained`:
        which of the phases the index trained it runs where they serve (a learned order, a cross-encoder)."""
        name = profile or self.settings.ranking_profile
        if self._reader is None:
            raise EmptyIndexError(f"no index at {self.path}: ingest a catalog first (vitrina ingest --index {self.path})")
        if (name, trained) not in self._pipelines:
            chosen = self.profiles.get(name)
            if self._blend is not None:
                chosen = self._blend.apply(chosen)
            reader = self._reader
            parser = self.parser()
            understander: Understander = WordsOnly(parser) if chosen.understanding == "words" else ConversationResolver(
                parser, lambda ids: {pid: rec for pid, (rec, _) in reader.get(ids).items()},
                lambda parsed: self.pipeline(name).top_prices(parsed))
            query_reader = self.query_reader() if chosen.understanding == "conversation" else None
            phases = self.phases
            tuning = self.settings.tuning
            order = self.models.order() if LEARNED_ORDER in trained else None
            if order is not None and chosen.signals:  # before the cross-encoder: it reads the order this makes
                try:
                    phases = {**phases, LEARNED_ORDER: LearnedOrderPhase(self._order_model(order), order)}
                except StaleOrderModel:  # searches go on without it; each says "skipped: not available"
                    pass
                chosen = chosen.model_copy(update={"phases": [*chosen.phases, PhaseSpec(
                    name=LEARNED_ORDER, depth=tuning.order_depth, budget_ms=tuning.order_budget_ms)]})
            reranker = self.models.reranker() if CROSS_ENCODER in trained else None
            if reranker is not None and chosen.signals:  # ranking profiles only, not the retrieval ablations
                manifest = self.models.manifest(reranker)
                graph = self._reranker_graph(reranker, manifest.max_length)
                phases = {**phases, CROSS_ENCODER: CrossEncoderPhase(
                    graph, reranker, manifest.rerank_mix, manifest.rerank_weight,
                    manifest.rerank_spreads if tuning.rerank_selective else None, manifest.rerank_skips_apart)}
                chosen = chosen.model_copy(update={"phases": [*chosen.phases, PhaseSpec(
                    name=CROSS_ENCODER, depth=tuning.rerank_depth, budget_ms=tuning.rerank_budget_ms)]})
            if query_reader is not None and self.settings.llm.rerank_depth:
                chosen, phases = self._with_llm_rerank(chosen)
            if query_reader is not None:
                understander = LLMUnderstander(understander, query_reader, parser, self.settings.llm.budget_ms,
                                               self._support)
            if self.settings.personalization.enabled:
                phases = {**phases, PERSONAL: PersonalPhase(_vectors_of(reader), self.settings.personalization.strength)}
            lists = chosen.retrievers
            if self._has_photos is None:
                self._has_photos = reader.count_vectors("image") > 0
            if any(name in lists for name in IMAGE_LISTS) and not self._has_photos:
                # No photos in this generation: the photo list would find nothing, and with a filter Qdrant Edge
                # still walks the filtered points to learn that (35 ms a search at 1M products).
                lists = {name: weight for name, weight in lists.items() if name not in IMAGE_LISTS}
            steer = self.photo_query if any(name in lists for name in IMAGE_LISTS) else None
            retriever = HybridRetriever(reader, lists, self.settings.retrieval.rrf_k,
                                        steer.vector if steer is not None else None)
            self._pipelines[(name, trained)] = SearchPipeline(self.settings, chosen, understander, retriever,
                                                              SignalRanker(chosen), reader, self.encoder, self.stats,
                                                              phases, self.outfit_rules)
        return self._pipelines[(name, trained)]

    def _with_llm_rerank(self, profile: RankProfile) -> tuple[RankProfile, dict[str, RankPhase]]:
        """The profile with the LLM's re-ranking of its top hits as its last phase (it waits at most the budget)."""
        llm = self.settings.llm
        if self._llm_rerank is None:
            assert self.llm is not None
            self._llm_rerank = LLMRerankPhase(self.llm, self.settings.domain, llm.rerank_depth,
                                              wait=llm.budget_ms > 0)
        spec = PhaseSpec(name=PHASE_NAME, depth=llm.rerank_depth, budget_ms=max(llm.budget_ms, 1.0))
        return (profile.model_copy(update={"phases": [*profile.phases, spec]}),
                {**self.phases, PHASE_NAME: self._llm_rerank})

    def count(self) -> int:
        """Products in the live generation."""
        with self._guard.reading():
            return self._reader.count() if self._reader else 0

    def close(self) -> None:
        with self._guard.swapping():
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        if self._encoder is not None and self._encoder.cache is not None:
            self._encoder.cache.close()
        if self._photos is not None and self._photos.cache is not None:
            self._photos.cache.close()
        if self._query_reader is not None:
            self._query_reader.close()
        if self._support is not None:
            self._support.close()
        if self._llm_rerank is not None:
            self._llm_rerank.close()
        if self._llm is not None and self._llm is not self._shared_llm:
            self._llm.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writes ---
    def ingest(self, source: str | Path | Iterable[Product | RowError], feed: str | Feed = "tabular",
               mapping: dict[str, str] | None = None, fresh: bool = False, delete: Iterable[str] = (),
               progress: Progress | None = None, vectors: Literal["now", "later"] = "now") -> IngestReport:
        """Validate, embed and upsert a feed (or Products); published atomically when all of it is in.
        vectors="later": products the vector cache has no vector for are published without one (searchable by
        words and filters at once); `fill_vectors` gives them theirs, a generation at a time."""
        start = time.perf_counter()
        report = IngestReport()
        if isinstance(source, (str, Path)):
            adapter = make_feed(feed, mapping) if isinstance(feed, str) else feed
            items: Iterable[Product | RowError] = validate_rows(adapter.rows(Path(source)))
        else:
            items = source
        self.refresh()
        encoder = self.encoder
        with self.store.transaction(encoder.model_id, encoder.dimension, fresh=fresh,
                                    model_version=self._model_version) as index:
            gone = list(delete)
            index.delete(gone)
            report.deleted = len(gone)
            keep_photos = not fresh and index.count_vectors("image") > 0
            batch: list[Product] = []
            for item in items:
                report.rows += 1
                if isinstance(item, RowError):
                    report.rejected.append(item)
                    continue
                batch.append(item)
                if len(batch) >= self.settings.ingest_batch_size:
                    if report.upserted == 0:
                        # A catalog, not a few products. Each batch's records outlive a few young collections, so
                        # full collections keep coming, and each walks the whole heap, the caller's source list
                        # too: with 44k source products alive, making an index document took 85 µs, 41 with what
                        # was alive before set out of the collector's reach (vitrina.heap). Once, here: a small
                        # ingest (a service's few changed products) never pays for the full collection it takes.
                        heap.settle(self.settings.gc_young_threshold)
                    self._write(index, batch, report, progress, vectors == "later", keep_photos)
                    batch = []
            self._write(index, batch, report, progress, vectors == "later", keep_photos)
            if progress:
                progress("optimize", 0, None)
            publishing = time.perf_counter()
        report.publish_seconds = round(time.perf_counter() - publishing, 3)
        self._open_reader()
        report.seconds = round(time.perf_counter() - start, 3)
        return report

    def _write(self, index: ProductIndex, batch: list[Product], report: IngestReport,
               progress: Progress | None, later: bool = False, keep_photos: bool = False) -> None:
        if not batch:
            return
        texts = [embedding_text(p) for p in batch]
        started = time.perf_counter()
        vectors: Sequence[np.ndarray | None]
        if later:
            vectors = self.encoder.cached_documents(texts)
            report.vectors_later += sum(v is None for v in vectors)
        else:
            matrix, encoded = self.encoder.encode_documents(texts)
            vectors = list(matrix)
            report.embedded += encoded
        report.encode_seconds = round(report.encode_seconds + time.perf_counter() - started, 3)
        docs = [index_doc(p, v) for p, v in zip(batch, vectors, strict=True)]
        if keep_photos:  # an upsert replaces a product whole: a changed price must not lose its photo's vector
            photos = index.get([p.id for p in batch], with_vectors=True, space="image")
            for doc in docs:
                photo = photos.get(doc.id, (None, None))[1]
                doc.image_vector = photo.tolist() if photo is not None else None
        index.upsert(docs)
        report.upserted += len(batch)
        if progress:
            progress("ingest", len(batch), None)

    def missing_vectors(self) -> int:
        """Products of the live generation still without a vector (after an ingest with vectors="later")."""
        with self._guard.reading():
            return self._reader.count_missing_vectors() if self._reader else 0

    def fill_vectors(self, batch: int = 4096, progress: Callable[[int, int], None] | None = None,
                     max_batches: int | None = None) -> VectorFill:
        """Vectors for the products published without one, `batch` at a time, each batch a new generation (so
        searches find them by meaning as it goes). Resumable: what was encoded is in the vector cache, and a batch
        cut short publishes nothing. progress(done, total) after each batch."""
        self.refresh()
        report = VectorFill(missing=self.missing_vectors())
        started = time.perf_counter()
        encoder = self.encoder
        while True:
            with self._guard.reading():
                if self._reader is None or not self._reader.missing_vectors(1):
                    break
            with self.store.transaction(encoder.model_id, encoder.dimension,
                                        model_version=self._model_version) as index:
                ids = index.missing_vectors(batch)
                records = index.get(ids)
                texts = [embedding_text(Product.model_validate(records[i][0])) for i in ids]
                vectors, encoded = encoder.encode_documents(texts)
                index.set_vectors(dict(zip(ids, vectors, strict=True)))
            self._open_reader()
            report.filled += len(ids)
            report.embedded += encoded
            report.generations += 1
            if progress:
                progress(report.filled, report.missing)
            if max_batches is not None and report.generations >= max_batches:
                break
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def use_model(self, version: str | None, batch: int = 4096,
                  progress: Callable[[int, int], None] | None = None) -> ModelSwitch:
        """Serve another encoder version (None: the configured one): every product re-embedded into a new
        generation, published with the version named in its meta in one rename; searches keep the old pair until
        then. Vectors come from the cache where that model made them before, so a rollback is quick."""
        started = time.perf_counter()
        report = ModelSwitch(version=version, previous=self._model_version)
        encoder = self._cached_encoder(version)
        try:
            with self.store.transaction(encoder.model_id, encoder.dimension, model_version=version,
                                        new_model=True) as index:
                total = index.count()
                ids = list(index.ids())
                for start in range(0, len(ids), batch):
                    chunk = ids[start:start + batch]
                    records = index.get(chunk)
                    texts = [embedding_text(Product.model_validate(records[i][0])) for i in chunk]
                    vectors, encoded = encoder.encode_documents(texts)
                    index.set_vectors(dict(zip(chunk, vectors, strict=True)))
                    report.products += len(chunk)
                    report.embedded += encoded
                    if progress:
                        progress(report.products, total)
        finally:
            if encoder.cache is not None:
                encoder.cache.close()
        self._open_reader()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def attach_images(self, source: Path | None = None, progress: Callable[[int, int], None] | None = None,
                      batch: int = 1024, base: Path | None = None) -> ImageAttach:
        """The products' photos embedded by the image tower into a new generation, published atomically: from
        `source` (a folder of `<id>.jpg` or tar shards of them), or, without one, from each product's own first
        image (a URL the shop serves, or a path relative to `base`). Unreadable photos are named and skipped,
        products without one work as before. The same photo is never encoded twice (cache by its bytes)."""
        started = time.perf_counter()
        self.refresh()
        encoder, photos = self.encoder, self.photos
        meta = self.store.meta()
        if photos.encoder.dimension != encoder.dimension:
            raise ValueError(f"the image model gives {photos.encoder.dimension}-d vectors; the index's text space is "
                             f"{encoder.dimension}-d: an image tower must be trained into the same space")
        if meta and meta.image_model and meta.image_model != photos.encoder.model_id:
            raise ValueError(f"this index's photos were embedded by {meta.image_model}: ingest the catalog "
                             f"again with --fresh to change the image model to {photos.encoder.model_id}")
        report = ImageAttach(model=photos.encoder.model_id)
        with self.store.transaction(encoder.model_id, encoder.dimension, model_version=self._model_version,
                                    image_model=photos.encoder.model_id) as index:
            known = set(index.ids())
            report.products = len(known)
            pending: list[tuple[str, bytes]] = []
            colour = self.photos.colour
            found = read_images(source, known) if source is not None else fetch_photos(
                self._photo_refs(index, sorted(known)), base, report.rejected)
            for item in found:
                pending.append(item)
                if len(pending) >= batch:
                    self._attach(index, photos.embed(pending, report), colour, report)
                    report.found += len(pending)
                    pending = []
                    if progress:
                        progress(report.found, report.products)
            self._attach(index, photos.embed(pending, report), colour, report)
            report.found += len(pending)
        self._open_reader()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    @staticmethod
    def _photo_refs(index: ProductIndex, ids: list[str]) -> Iterator[tuple[str, str]]:
        """(id, its first image) of the products that name one."""
        for start in range(0, len(ids), 2048):
            for pid, (record, _) in index.get(ids[start:start + 2048]).items():
                if record.get("images"):
                    yield pid, str(record["images"][0])

    def _attach(self, index: ProductIndex, vectors: dict[str, np.ndarray], colour: PhotoReader | None,
                report: ImageAttach) -> None:
        """Photo vectors in; with a colour classifier, their colours checked against the feed's, and products the
        feed gave no colour given their photo's (re-embedded: the colour is in their text now)."""
        index.set_vectors(vectors, space="image")
        if colour is None or not vectors:
            return
        records = {pid: rec for pid, (rec, _) in index.get(list(vectors)).items()}
        fills = colour_fills(colour, vectors, records, report)
        if not fills:
            return
        products = [Product.model_validate({**records[pid], "colors": [family.title()], "primary_color": family.title(),
                                            "attributes": {**records[pid].get("attributes", {}),
                                                           "colour_from_photo": family}})
                    for pid, family in fills.items()]
        texts, _ = self.encoder.encode_documents([embedding_text(p) for p in products])
        docs = [index_doc(p, v) for p, v in zip(products, texts, strict=True)]
        for doc in docs:
            doc.image_vector = vectors[doc.id].tolist()
        index.upsert(docs)
        report.colour_filled += len(docs)

    def photo_count(self) -> int:
        """Products of the live generation with a photo vector."""
        with self._guard.reading():
            return self._reader.count_vectors("image") if self._reader else 0

    def search_image(self, photo: bytes, filters: dict[str, Any] | None = None, size: int = 10) -> PhotoSearchResponse:
        """Products that look like a photo (its vector against the products' photos and texts), under filters.
        ImageError for bytes that are not an image, FilterError for a bad filter."""
        started = time.perf_counter()
        where = caller_filters(filters)
        vector = self.photos.embed_one(photo)
        readings = tuple(reader.read(vector) for reader in self.photos.readers.values())
        with self._guard.reading():
            if self._reader is None:
                raise EmptyIndexError(f"no index at {self.path}: ingest a catalog first")
            hits = photo_hits(self._reader, vector, where, size, self._photo_weights(), readings=readings,
                              reading_weight=self.settings.images.reading_weight)
        return response("photo", hits, started, readings)

    def similar(self, product_id: str, filters: dict[str, Any] | None = None, size: int = 10) -> PhotoSearchResponse | None:
        """Products that look like one of the catalog's (its type first); None for an unknown id."""
        started = time.perf_counter()
        where = caller_filters(filters)
        with self._guard.reading():
            if self._reader is None:
                raise EmptyIndexError(f"no index at {self.path}: ingest a catalog first")
            hits = similar_hits(self._reader, product_id, where, size, self._photo_weights())
        return None if hits is None else response(f"similar to {product_id}", hits, started)

    def _photo_weights(self) -> dict[str, float]:
        return {"photo": self.settings.images.photo_weight, "text": self.settings.images.text_weight}

    def delete(self, ids: Iterable[str]) -> IngestReport:
        """Remove products by id, published atomically like any ingest."""
        return self.ingest([], delete=ids)

    def update(self, patches: list[dict[str, Any]]) -> IngestReport:
        """Partial updates: each patch is {"id": ..., <fields to change>}; the rest of the product stays."""
        merged: list[Product | RowError] = []
        ids = [str(p.get("id", "")) for p in patches]
        with self._guard.reading():
            current = self._reader.get(ids) if self._reader else {}
        for row, patch in enumerate(patches, start=1):
            pid = str(patch.get("id", ""))
            if pid not in current:
                merged.append(RowError(row=row, product_id=pid or None, field="id", reason="no such product to update"))
                continue
            try:
                merged.append(Product.model_validate({**current[pid][0], **patch}))
            except ValidationError as exc:
                merged.extend(errors_of(row, pid, exc))
        return self.ingest(merged)

    # --- reads ---
    def search(self, query: str, history: Sequence[Turn | str | dict] | None = None,
               filters: dict[str, Any] | None = None, size: int | None = None, page: int = 1,
               profile: str | None = None, shopper: ShopperProfile | None = None) -> SearchResponse:
        """A repeated search (same words, history, filters, page, profile) is answered from memory with a new id.
        Searches run side by side (threads share one engine); each sees one generation of the index. A shopper's
        profile (shopper_profile) orders the hits the query ranks alike toward what they buy."""
        with self._guard.reading():
            response = self._search(query, history, filters, size, page, profile, shopper)
        if (response.understanding.intent == Intent.outfit and page == 1 and response.route == "search"
                and self.profiles.get(profile or self.settings.ranking_profile).understanding == "conversation"):
            outfit = self._outfit(response.understanding, None, None, filters, self._complementing(query, history))
            if outfit is not None:
                response = response.model_copy(update={"outfit": outfit})
        return response

    @cached_property
    def photo_query(self) -> PhotoQuery | None:
        """How text queries look among the photos (vision.readers.PhotoQuery), from the tower's readers."""
        return self.photos.query(self.settings.images.query_reading_weight)

    @cached_property
    def outfit_rules(self) -> OutfitRules | None:
        """rules/<domain>/outfits.json (the last layer that has one), or None: this domain builds no outfits. What
        asks what goes with something ("to go with") is the language's, as the parser reads it."""
        files = rule_files(self.settings.domain, self.settings.rules_path, "outfits")
        if not files:
            return None
        rules = validated(OutfitRules, files[-1])
        return rules.model_copy(update={"complement_phrases": rules.complement_phrases or self.rules.language.complements})

    def outfit(self, query: str = "", product_id: str | None = None, budget: float | None = None,
               filters: dict[str, Any] | None = None) -> Outfit | None:
        """A complete look for a request ("an outfit for a beach wedding under 5000") and/or around a product
        ("what goes with this"); None where the domain has no outfit rules. KeyError for an unknown product."""
        given = None
        if product_id is not None:
            given = self.get(product_id)
            if given is None:
                raise KeyError(product_id)
        return self._outfit(self.parser().parse(query), given, budget, filters)

    def _outfit(self, parsed: ParsedQuery, given: dict | None, budget: float | None,
                filters: dict[str, Any] | None, complementing: bool | None = None) -> Outfit | None:
        if self.outfit_rules is None:
            return None
        builder = OutfitBuilder(self.outfit_rules, self._slot_search, self.stats.values, self.stats.genders_of)
        return builder.build(parsed, given, budget, filters, complementing)

    def _complementing(self, query: str, history: Sequence[Turn | str | dict] | None) -> bool | None:
        """Whether a conversation's look goes with what the shopper has: asked by the turn that named the product
        types the conversation carries ("what goes with black jeans", then "for women"); None for one turn."""
        if not history or self.outfit_rules is None:
            return None
        return self.outfit_rules.complementing([*(t.query for t in as_turns(history)), query], self.parser().parse)

    def _slot_search(self, text: str, filters: dict[str, Any], size: int) -> list[tuple[dict, list[str]]]:
        """One slot of an outfit: the shopper's words under the slot's types (a type word when there are none)."""
        words = text or str(filters.get("type", [""])[0])
        with self._guard.reading():
            hits = self._search(words, None, filters, size, 1, None).hits
        return [(h.product, h.explanation.matches) for h in hits]

    def shopper_profile(self, user: str, interactions: Sequence[Interaction]) -> ShopperProfile:
        """A shopper's profile from their interactions, with this generation's products and vectors."""
        ids = list(dict.fromkeys(i.product_id for i in interactions))
        with self._guard.reading():
            found = self._reader.get(ids, with_vectors=True) if self._reader else {}
        return build_profile(user, interactions, {pid: rec for pid, (rec, _) in found.items()},
                             {pid: v for pid, (_, v) in found.items() if v is not None},
                             self.settings.personalization.half_life_days)

    def _search(self, query: str, history: Sequence[Turn | str | dict] | None, filters: dict[str, Any] | None,
                size: int | None, page: int, profile: str | None,
                shopper: ShopperProfile | None = None) -> SearchResponse:
        turns = as_turns(history)
        size = size or self.settings.default_page_size
        name = profile or self.settings.ranking_profile
        started = time.perf_counter()
        # A phase with a state (the learned model's version) makes a new state a new answer, for the profiles
        # that run it.
        states = [str(getattr(self.phases[p.name], "version", "")) for p in self.profiles.get(name).phases
                  if p.name in self.phases]
        if self._llm is not None:  # a new LLM answer (a reading, an order) may make a better answer than the cached
            states.append(str(self._llm.stats.counts["calls"]))
        if shopper is not None and shopper.known and self.settings.personalization.enabled:
            return self.pipeline(name).search(query, turns, filters, size, page, shopper)  # one shopper's: not cached
        key = json.dumps([query, [t.model_dump() for t in turns], filters, size, page, name, states],
                         sort_keys=True, default=str)
        cached = self._responses.get(key)
        if cached is not None:
            took = round((time.perf_counter() - started) * 1000, 3)
            return cached.model_copy(update={"search_id": uuid.uuid4().hex, "timings": {"cache": took, "total": took}})
        response = self.pipeline(name).search(query, turns, filters, size, page)
        self._responses.put(key, response)
        return response

    def first_phase(self, query: str, size: int) -> list[RankedHit]:
        """The default profile's top hits without the index's trained phases: what a learned order reads, for
        training and checking it. Drawn from the candidates a served first page draws on (`retrieval.candidates`
        a list), however many hits are asked for: deeper lists would train the order on candidates it never serves.
        Not cached, not logged."""
        with self._guard.reading():
            return self.pipeline(trained=()).search(query, [], None, size, 1, lists=self._served_lists()).hits

    def before_reranker(self, query: str, size: int) -> list[RankedHit]:
        """The default profile's top hits as a new cross-encoder would read them: re-ordered by the serving learned
        order, not by the serving cross-encoder, which the new one would replace. From a served first page's
        candidates, as first_phase. Not cached, not logged."""
        with self._guard.reading():
            return self.pipeline(trained=(LEARNED_ORDER,)).search(query, [], None, size, 1,
                                                                   lists=self._served_lists()).hits

    def _served_lists(self) -> int:
        return max(self.settings.retrieval.candidates, 10)  # a first page of up to ten, the API's default

    def rerank(self, query: str, product_ids: list[str], profile: str | None = None) -> list[str]:
        """The given products in the order this engine ranks them for the query."""
        with self._guard.reading():
            return self.pipeline(profile).rerank(query, product_ids)

    def explain(self, query: str, product_id: str, history: Sequence[Turn | str] | None = None) -> RankedHit | None:
        """Why a given product ranks where it does for a query (None if it is not among the ranked candidates)."""
        depth = min(self.settings.retrieval.rank_depth, self.settings.max_result_window)
        response = self.search(query, history, size=depth)
        return next((h for h in response.hits if h.product.get("id") == product_id), None)

    def get(self, product_id: str) -> dict | None:
        """One product record, or None."""
        return self.records([product_id]).get(product_id)

    def records(self, product_ids: list[str]) -> dict[str, dict]:
        """Product records by id (unknown ids left out)."""
        with self._guard.reading():
            found = self._reader.get(product_ids) if self._reader else {}
        return {pid: record for pid, (record, _) in found.items()}

    def ids(self) -> list[str]:
        """Every product id of the live generation."""
        with self._guard.reading():
            return list(self._reader.ids()) if self._reader else []

    def records_with_vectors(self, product_ids: list[str]) -> dict[str, tuple[dict, np.ndarray | None]]:
        """Product records by id with their text vectors (None where a vector comes later)."""
        with self._guard.reading():
            return self._reader.get(product_ids, with_vectors=True) if self._reader else {}

    def vectors(self, product_ids: list[str]) -> dict[str, np.ndarray]:
        """The live generation's text vectors by id (of the products that have one)."""
        with self._guard.reading():
            return _vectors_of(self._reader)(product_ids) if self._reader else {}


def _vectors_of(reader: ProductIndex) -> Callable[[list[str]], dict[str, np.ndarray]]:
    def vectors(ids: list[str]) -> dict[str, np.ndarray]:
        return {pid: v for pid, (_, v) in reader.get(ids, with_vectors=True).items() if v is not None}
    return vectors


def open_engine(path: str | Path | None = None, settings: Settings | None = None, encoder: Encoder | None = None,
                phases: dict[str, RankPhase] | None = None, llm: ChatClient | None = None, **overrides: Any) -> Engine:
    """`vitrina.open("data/index")`: an Engine over that index directory (created on first ingest)."""
    settings = settings or Settings(**overrides)
    if path is not None:
        settings = settings.model_copy(update={"index_path": Path(path)})
    return Engine(settings, encoder=encoder, phases=phases, llm=llm)
