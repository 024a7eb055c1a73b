"""The one settings object. No other module reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EncoderSettings(BaseModel):
    # "onnx-minilm": the int8 all-MiniLM-L6-v2 ONNX graph (no torch).
    # "sentence-transformers": any model name or path (needs the `torch` extra).
    backend: str = "onnx-minilm"
    model: str = "all-MiniLM-L6-v2"
    onnx_path: str | None = None  # override the packaged model.onnx
    tokenizer_path: str | None = None  # override the packaged tokenizer.json
    max_length: int = 256
    batch_size: int = 64
    threads: int = 2
    query_cache_size: int = 4096
    cache_path: Path | None = None  # the product vector cache; default <index>/vectors.sqlite (may be shared)


class RetrievalSettings(BaseModel):
    candidates: int = 150  # per retriever, before fusion
    rrf_k: int = 60
    vector_weight: float = 0.6
    bm25_weight: float = 0.4
    category_weight: float = 0.8  # a third list: retrieval restricted to the asked-for product types
    hnsw_ef: int = 128


class RankingWeights(BaseModel):
    model_config = ConfigDict(extra="forbid")
    semantic: float = 0.25
    lexical: float = 0.10
    constraint: float = 0.25
    metadata: float = 0.30
    quality: float = 0.10


class ServiceSettings(BaseModel):
    data_dir: Path = Path("data/service")  # the service database and tenants' indexes
    database_url: str | None = None  # default: a SQLite file in data_dir; or postgresql+psycopg://...
    admin_key: str | None = None  # VITRINA_SERVICE__ADMIN_KEY; generated and printed when unset
    images_path: Path | None = None  # a folder of images, or of .tar shards of them (the fashion thumbnails)
    max_body_bytes: int = 8 * 1024 * 1024
    max_query_chars: int = 512
    max_events_per_batch: int = 1000
    max_page_size: int = 100

    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'vitrina.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VITRINA_", env_nested_delimiter="__", extra="ignore")

    index_path: Path = Path("data/index")
    domain: str = "fashion"
    rules_path: Path | None = None  # a folder with <domain>/*.json, replacing the packaged rules
    search_threads: int = 1  # capped so one query never takes both cores under concurrent load
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    weights: RankingWeights | None = None  # None: the domain's rules/<domain>/ranking.json
    default_page_size: int = 10
    response_cache_size: int = 2048  # repeated searches answered from memory until the index changes
    ingest_batch_size: int = 512
    api_key: str | None = None  # VITRINA_API_KEY: the `default` tenant's key for `vitrina serve`
    service: ServiceSettings = Field(default_factory=ServiceSettings)
