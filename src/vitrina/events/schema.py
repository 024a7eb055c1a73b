"""Tables of the service database: tenants and keys, the search log, impressions and events."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

tenants = Table(
    "tenants", metadata,
    Column("name", String(64), primary_key=True),
    Column("index_path", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("encoder", String(64), nullable=True),  # the tenant's encoder backend; NULL: the service's
    Column("llm", JSON, nullable=True),  # the tenant's LLM settings over the service's (config.LLMSettings fields)
    # the tenant's personalisation over the service's (config.PersonalizationSettings fields: on/off, strength)
    Column("personalization", JSON, nullable=True),
)

api_keys = Table(
    "api_keys", metadata,
    Column("key_hash", String(64), primary_key=True),  # sha256 of the key; the key itself is never stored
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=True),  # NULL: an admin key
    Column("scope", String(16), nullable=False),  # admin | full | public
    Column("label", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

searches = Table(
    "searches", metadata,
    Column("search_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("query", Text, nullable=False),
    Column("user_id", String(256)),
    Column("session_id", String(256)),
    Column("filters", JSON),
    Column("page", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("took_ms", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_searches_tenant_query", "tenant", "query"),
)

impressions = Table(
    "impressions", metadata,
    Column("search_id", String(64), ForeignKey("searches.search_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("product_id", String(256), nullable=False),
    Column("first_rank", Integer),  # its rank before the learned phase moved it (events.models.Impression)
    Column("signals", JSON),  # the first phase's signal scores for it (what the learner weighs)
    Index("ix_impressions_tenant_product", "tenant", "product_id"),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("type", String(16), nullable=False),
    Column("search_id", String(64)),
    Column("known_search", Boolean, nullable=False),  # False: search_id missing from the log (kept, flagged)
    Column("product_id", String(256), nullable=False),
    Column("position", Integer),
    Column("user_id", String(256)),
    Column("session_id", String(256)),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price", Float),
    Column("revenue", Float),
    Column("margin", Float),
    Column("currency", String(3)),
    UniqueConstraint("tenant", "event_id", name="uq_events_tenant_event_id"),
    Index("ix_events_tenant_search", "tenant", "search_id"),
    Index("ix_events_tenant_product", "tenant", "product_id"),
    Index("ix_events_tenant_user", "tenant", "user_id", "id"),  # a shopper's latest events (personalize/)
)

# --- the learner (vitrina.learn): per tenant, its objective and its model versions ---
learner_settings = Table(
    "learner_settings", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("objective", JSON, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),  # set by a rollback: no update until resumed
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

learner_models = Table(
    "learner_models", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # served | retired | rolled_back
    Column("info", JSON, nullable=False),  # learn.model.ModelInfo
    Column("state", LargeBinary, nullable=False),  # zlib JSON: info and evidence
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant", "version", name="uq_learner_models_tenant_version"),
    Index("ix_learner_models_tenant_status", "tenant", "status"),
)

# --- A/B experiments (vitrina.experiments): definitions, and which variant served each search ---
experiments = Table(
    "experiments", metadata,
    Column("tenant", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("definition", JSON, nullable=False),  # experiments.models.Experiment
    Column("created_at", DateTime(timezone=True), nullable=False),
)

assignments = Table(
    "assignments", metadata,
    Column("search_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("experiment", String(64), nullable=False),
    Column("variant", String(64), nullable=False),  # "interleaved" in an interleaving experiment
    Column("teams", JSON),  # interleaving: product id -> the variant that placed it
    Index("ix_assignments_tenant_experiment", "tenant", "experiment"),
)
