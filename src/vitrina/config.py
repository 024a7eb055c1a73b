"""The one settings object. No other module reads the environment.

Unknown names are errors (`domian="generic"` must not silently run fashion) and numbers are bounded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

STRICT = ConfigDict(extra="forbid")


class EncoderSettings(BaseModel):
    model_config = STRICT
    # A name in vitrina.embed.registry.ENCODERS (or the `vitrina.encoders` entry point group):
    # "onnx-minilm": the int8 all-MiniLM-L6-v2 ONNX graph (no torch);
    # "sentence-transformers": any model name or path (needs the `torch` extra);
    # "static-minilm": token vectors distilled from the MiniLM graph, averaged (embed/static.py): fast ingest.
    backend: str = "onnx-minilm"
    model: str = "all-MiniLM-L6-v2"
    onnx_path: str | None = None  # override the packaged model.onnx
    tokenizer_path: str | None = None  # override the packaged tokenizer.json
    max_length: int = Field(default=256, ge=8, le=8192)
    batch_size: int = Field(default=64, ge=1, le=4096)
    threads: int = Field(default=2, ge=1, le=256)  # `serve --workers N` splits the cores instead, unless set
    device: str = "auto"  # sentence-transformers: "auto" (a CUDA GPU when torch sees one), "cpu", "cuda", "cuda:1"
    query_cache_size: int = Field(default=4096, ge=0)
    cache_path: Path | None = None  # the product vector cache; default <index>/vectors.sqlite (may be shared)
    static_dimension: int = Field(default=256, ge=8, le=384)  # static-minilm: PCA components kept per token
    static_path: Path | None = None  # static-minilm: where the distilled token table is kept (default ~/.cache/vitrina)


class RetrievalSettings(BaseModel):
    model_config = STRICT
    candidates: int = Field(default=150, ge=1, le=10_000)  # per retriever list, before fusion
    rrf_k: int = Field(default=60, ge=1, le=10_000)
    hnsw_ef: int = Field(default=128, ge=4, le=4096)
    # How new index generations store vectors: float16 halves their memory (a vector's cosine to the float32 one
    # stays above 0.9999); an existing generation keeps the storage it was made with.
    vector_datatype: Literal["float32", "float16"] = "float16"
    # Filter fields whose indexes new generations keep on the heap: those the engine filters on by itself (a
    # query's type, brand, gender and price; colours and sizes from refinements and negations; the in-stock
    # switch). The others, filtered on only when a caller asks, are mapped from disk and read as filters touch
    # them: ~400 MB less resident at 1M products. Mapping them all costs filtered searches up to 2x at 1M.
    resident_filter_fields: list[str] = Field(default_factory=lambda: [
        "type", "brand", "gender", "price", "colors", "sizes", "in_stock"])
    # Build new generations in segments of at most this many products, each indexed when full and never merged
    # (None: one segment). At 1M, 250,000: indexing 1,226 -> 1,582 products/s, ingest peak 13.4 -> 10.9 GB,
    # but every search visits each segment: 1-client throughput 60 -> 45 q/s (bench/results/bench-1m-segments.md).
    segment_products: int | None = Field(default=None, ge=10_000)
    rank_depth: int = Field(default=200, ge=1, le=10_000)  # fused candidates the first ranking phase scores


class LearningSettings(BaseModel):
    """The learned ranking phase and its background updates (vitrina.learn)."""
    model_config = STRICT
    enabled: bool = True  # the service searches with `profile` and learns from every tenant's events
    profile: str = "learned"  # the ranking profile with the learned phase; "full" is the static one
    objective: Literal["clicks", "conversion", "revenue", "margin"] = "conversion"  # default for new tenants
    update_every_events: int = Field(default=200, ge=1)  # update once this many new events arrived ...
    update_every_seconds: float = Field(default=30.0, gt=0)  # ... or this long after the last, if any arrived
    # ... but never sooner than this after the last: an update over a 23k-search window takes ~6 s of one core
    # (50k: ~13 s), so a busy shop's events must not keep the learner running back to back beside its searches.
    min_update_interval_seconds: float = Field(default=60.0, ge=0)
    # The newest searches an update learns from. Memory follows it (bench/learner_memory.py): ~3 MB of served model
    # and ~17 MB of update peak per 1,000 searches, so 50,000 keeps a tenant's learner near 150 MB and 0.9 GB.
    window_searches: int = Field(default=50_000, ge=100)
    prior_strength: float = Field(default=5.0, gt=0)  # examinations of prior at the mean gain (evidence.py)
    max_clicks_per_shopper_product: int = Field(default=3, ge=1)  # a flood of clicks counts this many times
    min_validation_searches: int = Field(default=30, ge=1)  # held-out searches with a gain before weights change
    keep_versions: int = Field(default=5, ge=2)  # model versions kept for rollback
    # The service's background updates run in a child process: an update's peak (the window, ~17 MB per 1,000
    # searches) leaves with it instead of staying in the server as its high-water mark; the model is read back.
    update_in_child: bool = True


class TuningSettings(BaseModel):
    """Per-tenant encoders fine-tuned on the shop's judgments or events (vitrina.learn.tuning; the `torch` extra)."""
    model_config = STRICT
    base_model: str | None = None  # a sentence-transformers folder or name; default: the packaged all-MiniLM-L6-v2
    epochs: float = Field(default=1.0, gt=0, le=100)
    # The encoder's batch, also its in-batch negatives per query, and its learning rate. An epoch keeps at least 64
    # steps (finetune.py), so on Home Depot's 34,419 examples 1024 asked trains in batches of 537: with the learned
    # order and the cross-encoder after it, it checked better than 64 on the validation queries (0.4223 against
    # 0.4203) and its vector list reaches 0.360 (README: the encoder's batch, with the learned order). Memory grows
    # with it (a batch of 512 held 6.7 GB): a small machine sets less.
    batch_size: int = Field(default=1024, ge=2, le=4096)
    learning_rate: float = Field(default=1e-4, gt=0, le=1)  # what every measured run used
    max_seq_length: int = Field(default=64, ge=8, le=512)  # queries and product texts are short; longer is slower
    # a batch's texts encoded in runs of similar length, not all padded to the longest (learn/tuning/loss.py): the
    # same loss on the same batches, 1.2-1.3x faster a step on Home Depot titles
    encode_by_length: bool = True
    length_run: int = Field(default=32, ge=1, le=4096)  # texts per run
    max_repeats: int = Field(default=4, ge=1, le=100)  # the most a heavily weighted pair repeats in an epoch
    # Negatives mined per query from the engine's top 30 that no pair names (learn/tuning/mining.py), for the
    # cross-encoder (as pairs labelled 0) and, with `encoder_mined_negatives`, the encoder (as hard negatives).
    mined_per_query: int = Field(default=3, ge=0, le=30)
    # Off: on Home Depot the encoder trained with them checked better on its validation queries (0.365 against
    # 0.345) but its vector list read worse on the unseen ones (0.336 against 0.347). The check ranks pools drawn
    # from the serving model's own lists, the very products mined, so it rewards pushing them down (README).
    encoder_mined_negatives: bool = False
    # What the encoder's contrastive loss ranks each text against: a query against the batch's products (the
    # default), and with "doc_to_query" also each product against the batch's queries (symmetric; GTE's improved
    # loss adds "query_to_query" and "doc_to_doc"): sentence-transformers' `directions`. Symmetric read the same
    # as one direction on Home Depot (vector 0.3581 against 0.3590, batch 537; README)
    encoder_loss_directions: tuple[Literal["query_to_doc", "doc_to_query", "query_to_query", "doc_to_doc"], ...] = (
        "query_to_doc",)
    min_pairs: int = Field(default=200, ge=1)  # fewer and training refuses: it would learn noise
    validation_fraction: float = Field(default=0.1, ge=0, lt=1)  # the tenant's queries kept out to check a model
    min_improvement: float = Field(default=0.0, ge=-1, le=1)  # the new model must beat the serving one by this
    fit_blend: bool = True  # once published, weigh its meaning against the words on the validation queries (blend.py)
    seed: int = 0
    device: str = "auto"  # "auto": a CUDA GPU when torch sees one, else the CPU
    # "auto": fp16 on a GPU, bf16 on a CPU that multiplies it in hardware, else fp32 (learn/tuning/hardware.py)
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"
    # what draws the dropout masks when training on a CPU: numpy's PCG64, faster than torch's generator there
    # (learn/tuning/dropout.py); a GPU always uses torch's
    dropout_sampler: Literal["numpy", "torch"] = "numpy"
    rerank_depth: int = Field(default=30, ge=2, le=1000)  # the top hits the index's cross-encoder reads
    rerank_budget_ms: float = Field(default=60.0, gt=0)  # ... within this time (the rest keep their place)
    # ... as a mean: where its version knows the held-out queries' spreads, a search whose top scores are close gets
    # twice the time and one whose top stands apart none, if its check found no gain there (rank/cross_encoder.py);
    # off: every search the budget
    rerank_selective: bool = True
    # Threads a search's cross-encoder pass may use while no other pass runs beside it (rank/cross_encoder.py).
    # Two: once the query encoder's pool stopped spinning after its run (onnx_session.py), a second thread read
    # 19.5 of 30 pairs in 60 ms against one's 16.1, p95 87 ms against 117 (bench/results/reranker-threads-
    # spinning-stop.md); before, the spinning pool held the core and two read no more. `serve --workers N` splits them.
    rerank_threads: int = Field(default=2, ge=1, le=256)
    # The cross-encoder also learns the products a judge graded in between (neither an encoder's positive nor a
    # negative) at their grade (learn/tuning/crossencoder.py). Off: on Home Depot its check fell (0.4139 against
    # 0.4228) and all 30 read gave +4.4% against +4.6% (bench/results/tenant-reranker-homedepot-amd-epyc-in-between.md)
    rerank_in_between: bool = False
    # The cross-encoder keeps only the base model's first this many transformer layers (None: all of them): half
    # the layers read a pair in half the time, but on Home Depot three of MiniLM's six lost most of its gain.
    rerank_layers: int | None = Field(default=None, ge=1, le=64)
    # The cross-encoder's passes over its pairs (the encoder's are `epochs`). Two, the low end of the 2-4 that
    # fine-tuning BERT from a fresh output layer takes (Devlin et al. 2019, A.3): its head starts from nothing,
    # while the encoder only moves a space it already has (README: the cross-encoder's epochs).
    rerank_epochs: float = Field(default=2.0, gt=0, le=100)
    # The cross-encoder's batch and learning rate: each pair is its own example (no in-batch negatives), and these
    # are what its measured runs used.
    rerank_batch_size: int = Field(default=64, ge=1, le=4096)
    rerank_learning_rate: float = Field(default=5e-5, gt=0, le=1)
    # The cross-encoder's batches drawn from pairs of about the same length (learn/tuning/batches.py): each epoch
    # still reads every pair once, in a third fewer tokens on Home Depot; off: batches drawn at random
    rerank_batches_by_length: bool = True
    # How the cross-encoder learns: "pointwise", each pair alone (binary cross-entropy against its grade), or
    # "listwise", each query's pairs together (softmax cross-entropy toward its grades: it learns the order within a
    # query, which is all its serving uses: its scores are standardised among one search's hits)
    rerank_loss: Literal["pointwise", "listwise"] = "pointwise"
    # The learned order of the top `order_depth` hits (rank/learned_order.py), trained before the cross-encoder
    # (`vitrina train --reranker`): LambdaMART's trees, their leaves and pace (LightGBM's names), the best of four
    # (200 or 500 trees of 15 or 31 leaves) on Home Depot's validation queries; off: the cross-encoder reads the
    # first phase's order. On Home Depot, re-ordering the top 200 it adds +8.4% over the first phase in about
    # 10 ms (README: the learned order of the top 200).
    learned_order: bool = True
    order_trees: int = Field(default=200, ge=1, le=5000)
    order_leaves: int = Field(default=15, ge=2, le=1024)
    order_learning_rate: float = Field(default=0.05, gt=0, le=1)
    order_min_rows_per_leaf: int = Field(default=50, ge=1)
    # the top hits it re-orders (the cross-encoder then reads the first `rerank_depth` of them): all the first
    # phase ranks (`retrieval.rank_depth`), where Home Depot's validation queries read better than at 100
    order_depth: int = Field(default=200, ge=2, le=1000)
    order_budget_ms: float = Field(default=20.0, gt=0)  # it reads no text model: about 10 ms for 200 hits
    # The cores a training run's own work is shared among, beside torch's: its searches (processes, each opening the
    # index: learn/tuning/searches.py; the training queries' top hits for the learned order and for mined
    # negatives, the held-out queries' for the checks) and the learned order's trees (LightGBM's threads).
    training_cores: int = Field(default=2, ge=1, le=256)
    # The most seconds one model's training (the encoder's fine-tune, the cross-encoder's) may take; one that would
    # take longer is re-planned to end in time, its learning rate annealed to zero by then (learn/tuning/deadline.py).
    # None: the epochs as set. 500 s keeps a `train --reranker` run on Home Depot's judgments within 15 minutes on 2
    # cores (its learned order, mining, export and check take about 300 s beside it); a GPU trains well within it.
    train_budget_s: float | None = Field(default=500.0, gt=0)
    retrain_every_events: int = Field(default=5000, ge=1)  # the service retrains once this many new events arrived
    auto_retrain: bool = False  # the service schedules retraining by itself (a background process)


class PersonalizationSettings(BaseModel):
    """A signed-in shopper's own ranking (vitrina.personalize): on by default, per tenant switch and strength."""
    model_config = STRICT
    enabled: bool = True
    strength: float = Field(default=1.0, ge=0, le=10)  # how far the shopper may move hits the query ranks alike
    query_nudge: float = Field(default=0.15, ge=0, le=1)  # the query vector moved this far toward the shopper's
    depth: int = Field(default=50, ge=2, le=1000)  # the top hits the personal phase may re-order
    budget_ms: float = Field(default=20.0, gt=0)
    half_life_days: float = Field(default=60.0, gt=0)  # an interaction this old counts half
    max_interactions: int = Field(default=200, ge=1, le=100_000)  # the newest a profile is built from


class ImageSettings(BaseModel):
    """Product photos (vitrina.vision): the image tower that embeds them into the text encoder's space."""
    model_config = STRICT
    model_path: Path | None = None  # an ONNX image tower; None: the fashion one that ships with Vitrina
    batch: int = Field(default=64, ge=1, le=4096)
    # Search by photo: the photo against the products' photos, and against their texts (the same space).
    photo_weight: float = Field(default=1.0, ge=0)
    text_weight: float = Field(default=0.5, ge=0)
    # ... and each product weighed by the chance it is what the photo shows (its type and colour family, read by
    # the tower's readers): it scores (1 + reading_weight x that chance) times its fused score.
    reading_weight: float = Field(default=4.0, ge=0)
    # A text query's photo list: its vector plus the readers' directions for the types and colour families it asks
    # for, each at this times the query vector's length (vision.readers.PhotoQuery); 0 searches the bare vector.
    query_reading_weight: float = Field(default=1.0, ge=0)


class LocalModelSettings(BaseModel):
    """The embedded default LLM: a llama.cpp server (llama-cpp-python[server]) over a GGUF file that PyPI
    packages ship in parts (vitrina.llm.local)."""
    model_config = STRICT
    model: str = "qwen2.5-coder-0.5b"  # a name in vitrina.llm.local.LOCAL_MODELS, or a path to a .gguf file
    host: str = "127.0.0.1"
    port: int = Field(default=8089, ge=1, le=65535)
    # One thread by default: on a 2-core box the model must leave a core to the searches (as search_threads does);
    # a machine with cores to spare gives it more.
    threads: int = Field(default=1, ge=1, le=256)
    context: int = Field(default=2048, ge=256, le=131_072)
    # The server keeps the model's state after each answer, up to this many MB, and starts a prompt from the
    # longest one it shares (a chat's system prompt and earlier turns are not read again): 0 turns it off.
    prompt_cache_mb: int = Field(default=512, ge=0, le=65_536)
    models_dir: Path | None = None  # where joined GGUF files are kept (default ~/.cache/vitrina/llm)
    start_seconds: float = Field(default=120.0, gt=0)  # how long a start may take before it counts as failed
    autostart: bool = False  # `vitrina serve` starts (and stops) the local server when the LLM is enabled


class LLMSettings(BaseModel):
    """The LLM layer (vitrina.llm): any OpenAI-compatible chat endpoint; rules stay the fast path."""
    model_config = STRICT
    enabled: bool = False
    base_url: str = "http://127.0.0.1:8089/v1"  # a vLLM/Ollama/llama.cpp server or a hosted API
    model: str = "qwen2.5-coder-0.5b"  # the name the endpoint knows the model by
    api_key: str | None = None  # VITRINA_LLM__API_KEY; sent as a bearer token
    timeout_seconds: float = Field(default=60.0, gt=0)  # one HTTP call (a 0.5B model on 2 cores: ~5-15 s)
    retries: int = Field(default=1, ge=0, le=10)  # on a timeout, a connection error or a 5xx
    breaker_failures: int = Field(default=3, ge=1)  # this many failures in a row open the circuit ...
    breaker_reset_seconds: float = Field(default=30.0, gt=0)  # ... which lets one call try again after this long
    max_tokens: int = Field(default=320, ge=16, le=32_768)
    # How a JSON schema is asked for: "openai" (response_format json_schema: OpenAI, vLLM, Ollama, llama.cpp's own
    # llama-server) or "llama-cpp" (json_object with a schema: llama-cpp-python's server, the embedded default).
    schema_style: Literal["openai", "llama-cpp"] = "llama-cpp"
    # How long a search may wait for the LLM's reading of a query not seen before; 0 (the default on CPU): never,
    # the rules answer and the reading is made in the background for the next time. A fast endpoint may allow
    # e.g. 300.
    budget_ms: float = Field(default=0.0, ge=0)
    # What the query's own meaning must back before a proposal of the model moves a ranking (understand/llm.py):
    # a type or term among the closest quarter of its kind to the query (or this many closest, when set), an
    # expansion word at least this close. With products read in the model's own words, the closest 5 cost the 1.5B
    # model's vague-set gain 3 points (16.6% -> 13.5%; fashion dev the same either way).
    support_rank: int | None = Field(default=None, ge=1)
    support_min_cosine: float = Field(default=0.35, ge=-1, le=1)
    # A product the model names in its own words counts as the catalog type closest to it when the rules' reading
    # of it names none and that type's name is at least this close ("hand mittens" -> gloves: 0.53).
    ground_min_cosine: float = Field(default=0.5, ge=-1, le=1)
    rerank_depth: int = Field(default=5, ge=0, le=20)  # the top hits the LLM may re-order (0: no LLM re-ranking)
    queue_size: int = Field(default=1000, ge=1)  # queries waiting for a background reading; more are dropped
    cache_path: Path | None = None  # LLM answers by model and prompt; default <index>/llm.sqlite
    local: LocalModelSettings = Field(default_factory=LocalModelSettings)


class ServiceSettings(BaseModel):
    model_config = STRICT
    data_dir: Path = Path("data/service")  # the service database and tenants' indexes
    database_url: str | None = None  # default: a SQLite file in data_dir; or postgresql+psycopg://...
    admin_key: str | None = None  # VITRINA_SERVICE__ADMIN_KEY; generated and printed when unset
    images_path: Path | None = None  # a folder of images, or of .tar shards of them (the fashion thumbnails)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_events_per_batch: int = Field(default=1000, ge=1, le=100_000)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    workers: int = Field(default=1, ge=1, le=64)  # processes serving the API (vitrina.serve.workers)
    follow_seconds: float = Field(default=1.0, gt=0)  # how soon a worker sees what another one published

    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'vitrina.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VITRINA_", env_nested_delimiter="__", extra="forbid")

    index_path: Path = Path("data/index")
    index_backend: str = "edge"  # a name in vitrina.index.backends.BACKENDS: "edge" (Qdrant Edge) or "memory"
    domain: str = "fashion"
    rules_path: Path | None = None  # a folder with <domain>/*.json, replacing the packaged rules
    ranking_profile: str = "full"  # a profile of rules/<domain>/ranking.json (signals, weights, retrievers)
    search_threads: int = Field(default=1, ge=1, le=256)  # capped so one query never takes both cores under load
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    default_page_size: int = Field(default=10, ge=1, le=1000)
    max_result_window: int = Field(default=1000, ge=1, le=10_000)  # page x size a search may reach
    max_query_chars: int = Field(default=512, ge=16, le=100_000)  # longer input is cut by the parser, a 422 in the API
    response_cache_size: int = Field(default=2048, ge=0)  # repeated searches answered from memory until the index changes
    response_cache_mb: float = Field(default=32.0, ge=0)  # ... and at most this much of their JSON (0: no cache)
    ingest_batch_size: int = Field(default=512, ge=1, le=100_000)
    # Load models and build the first search's structures when a generation opens, then settle the heap
    # (vitrina.heap): the service and the benchmark do; a one-shot command need not.
    warm_on_open: bool = False
    gc_young_threshold: int = Field(default=10_000, ge=100)  # allocations between collections of generation 0
    datasets_path: Path = Path("../shared/datasets")  # the public datasets `vitrina eval` and `bench` read
    api_key: str | None = None  # VITRINA_API_KEY: the `default` tenant's key for `vitrina serve`
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    learning: LearningSettings = Field(default_factory=LearningSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    tuning: TuningSettings = Field(default_factory=TuningSettings)
    personalization: PersonalizationSettings = Field(default_factory=PersonalizationSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)

    def with_service(self, **changes: object) -> Settings:
        """These settings with the service fields given (None: leave as set), e.g. from command-line options."""
        given = {k: v for k, v in changes.items() if v is not None}
        return self.model_copy(update={"service": self.service.model_copy(update=given)})
