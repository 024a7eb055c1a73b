"""Tenants, their API keys and their engines. A key belongs to one tenant (or is an admin key)."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine as Database
from sqlalchemy import select

from vitrina.config import LLMSettings, PersonalizationSettings, Settings
from vitrina.embed.encoder import Encoder
from vitrina.embed.registry import ENCODERS, make_encoder
from vitrina.engine import Engine, open_engine
from vitrina.events.schema import api_keys, tenants
from vitrina.rank.ranker import RankPhase

M = TypeVar("M", bound=BaseModel)

Scope = Literal["admin", "full", "public"]  # public: search, read products, send events (safe in a web page)
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class KeyInfo(BaseModel):
    tenant: str | None  # None for an admin key
    scope: Scope


class TenantError(ValueError):
    pass


class TenantExists(TenantError):
    pass


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(scope: Scope) -> str:
    return f"vk_{scope[:3]}_{secrets.token_urlsafe(24)}"


class TenantRegistry:
    """Tenants live in the service database; each one's index sits under data_dir/tenants/<name>."""

    def __init__(self, db: Database, settings: Settings, encoder: Encoder | None = None,
                 phases: Callable[[str], dict[str, RankPhase]] | None = None):
        self.db = db
        self.settings = settings
        self.phases = phases  # tenant -> the later ranking phases its engine is given (the learned one)
        # One encoder per backend per process, shared by the tenants that use it: loaded (and hashed) once.
        self.encoder = encoder or make_encoder(settings.encoder)
        self._encoders: dict[str, Encoder] = {settings.encoder.backend: self.encoder}
        self._engines: dict[str, Engine] = {}
        self._opened_as: dict[str, tuple] = {}  # the tenant's row each engine was opened with (see sync)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()  # only for the dicts above: never held while an engine opens

    # --- tenants and keys ---
    def create(self, name: str, index_path: Path | None = None, encoder: str | None = None,
               llm: dict | None = None) -> None:
        """encoder: a backend of vitrina.embed.registry for this tenant's vectors (e.g. "static-minilm" for a
        fast first ingest); None: the service's. llm: LLMSettings fields that differ from the service's (its own
        endpoint, model, key, budget)."""
        if not TENANT_NAME.match(name):
            raise TenantError("tenant names are 1-64 lowercase letters, digits, '-' or '_'")
        if encoder is not None and encoder not in ENCODERS:
            raise TenantError(f"no encoder backend {encoder!r}; known: {', '.join(sorted(ENCODERS))}")
        path = index_path or self._default_index(name)
        self._llm_settings(llm)
        with self.db.begin() as conn:
            if conn.scalar(select(tenants.c.name).where(tenants.c.name == name)):
                raise TenantExists(f"tenant {name!r} exists")
            conn.execute(tenants.insert().values(name=name, index_path=str(path), created_at=_now(), encoder=encoder,
                                                 llm=llm or None))

    def set_llm(self, name: str, llm: dict | None) -> LLMSettings:
        """Change a tenant's LLM settings (None: the service's); its engine reopens with them on the next request."""
        settings = self._llm_settings(llm)
        self._set(name, llm=llm or None)
        return settings

    def set_personalization(self, name: str, changes: dict | None) -> PersonalizationSettings:
        """Switch a tenant's personalisation on or off, or set its strength (None: the service's settings)."""
        settings = self._personalization(changes)
        self._set(name, personalization=changes or None)
        return settings

    def _set(self, name: str, **values: object) -> None:
        with self.db.begin() as conn:
            if not conn.execute(tenants.update().where(tenants.c.name == name).values(**values)).rowcount:
                raise TenantError(f"no tenant {name!r}")
        with self._guard:
            engine = self._engines.pop(name, None)
            self._opened_as.pop(name, None)
        if engine is not None:
            engine.close()

    def _llm_settings(self, llm: dict | None) -> LLMSettings:
        """The service's LLM settings with a tenant's changes; a TenantError names what is wrong."""
        return _validated(LLMSettings, self.settings.llm, llm, "llm")

    def _personalization(self, changes: dict | None) -> PersonalizationSettings:
        return _validated(PersonalizationSettings, self.settings.personalization, changes, "personalization")

    def ensure(self, name: str, index_path: Path | None = None) -> None:
        """Create the tenant if missing; point it at index_path if one is given."""
        with self.db.begin() as conn:
            row = conn.execute(select(tenants).where(tenants.c.name == name)).mappings().first()
            if row is None:
                path = index_path or self._default_index(name)
                conn.execute(tenants.insert().values(name=name, index_path=str(path), created_at=_now()))
            elif index_path is not None and row["index_path"] != str(index_path):
                conn.execute(tenants.update().where(tenants.c.name == name).values(index_path=str(index_path)))

    def _default_index(self, name: str) -> Path:
        return self.settings.service.data_dir / "tenants" / name / "index"

    def exists(self, name: str) -> bool:
        with self.db.connect() as conn:
            return conn.scalar(select(tenants.c.name).where(tenants.c.name == name)) is not None

    def names(self) -> list[str]:
        with self.db.connect() as conn:
            return list(conn.scalars(select(tenants.c.name).order_by(tenants.c.name)))

    def add_key(self, tenant: str | None, scope: Scope, key: str | None = None, label: str | None = None) -> str:
        """Store a key (given, or freshly generated) and return it; only its hash is kept."""
        if (tenant is None) != (scope == "admin"):
            raise TenantError("admin keys have no tenant; tenant keys are 'full' or 'public'")
        key = key or new_key(scope)
        with self.db.begin() as conn:
            if conn.scalar(select(api_keys.c.key_hash).where(api_keys.c.key_hash == hash_key(key))) is None:
                conn.execute(api_keys.insert().values(key_hash=hash_key(key), tenant=tenant, scope=scope, label=label,
                                                      created_at=_now()))
        return key

    def authenticate(self, key: str) -> KeyInfo | None:
        with self.db.connect() as conn:
            row = conn.execute(select(api_keys.c.tenant, api_keys.c.scope)
                               .where(api_keys.c.key_hash == hash_key(key))).first()
        return KeyInfo(tenant=row[0], scope=row[1]) if row else None

    # --- engines ---
    def lock(self, name: str) -> threading.Lock:
        """One lock per tenant for its writers (ingest, delete) and for opening its engine: two writes to one
        index must not interleave. Searches take no lock here (the engine swaps generations between them)."""
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def engine(self, name: str) -> Engine:
        """The tenant's engine, opened on first use under that tenant's lock alone, so a tenant opening its index
        never blocks the others."""
        with self._guard:
            engine = self._engines.get(name)
        if engine is not None:
            if not engine.has_generation():  # opened before any catalog: another worker may have published one
                self.refresh(name, engine)
            return engine
        with self.lock(name):
            with self._guard:
                engine = self._engines.get(name)
            if engine is None:
                with self.db.connect() as conn:
                    row = conn.execute(select(tenants.c.index_path, tenants.c.encoder, tenants.c.llm,
                                              tenants.c.personalization).where(tenants.c.name == name)).first()
                if row is None:
                    raise TenantError(f"no tenant {name!r}")
                settings, encoder = self._encoder_for(row.encoder)
                if row.llm:
                    settings = settings.model_copy(update={"llm": self._llm_settings(row.llm)})
                if row.personalization:
                    settings = settings.model_copy(update={"personalization": self._personalization(
                        row.personalization)})
                engine = open_engine(Path(row.index_path), settings, encoder=encoder,
                                     phases=self.phases(name) if self.phases else None)
                with self._guard:
                    self._engines[name] = engine
                    self._opened_as[name] = tuple(row)
        return engine

    def refresh(self, name: str, engine: Engine) -> None:
        """Swap in a generation another process published for this tenant, unless this process is writing its
        index right now (its lock is held): then the writer swaps in what it publishes itself."""
        lock = self.lock(name)
        if lock.acquire(blocking=False):
            try:
                engine.refresh()
            finally:
                lock.release()

    def opened(self) -> dict[str, Engine]:
        """The engines this process has open, by tenant."""
        with self._guard:
            return dict(self._engines)

    def sync(self) -> None:
        """Close the engines whose tenant another process changed (its index, encoder, LLM or personalisation
        settings) or removed; the next request opens them anew. Engines follow new generations by refresh()."""
        with self.db.connect() as conn:
            rows = {r.name: (r.index_path, r.encoder, r.llm, r.personalization) for r in conn.execute(
                select(tenants.c.name, tenants.c.index_path, tenants.c.encoder, tenants.c.llm,
                       tenants.c.personalization))}
        with self._guard:
            stale = [name for name, row in self._opened_as.items() if rows.get(name) != row]
            closing = [engine for name in stale if (engine := self._engines.pop(name, None)) is not None]
            for name in stale:
                self._opened_as.pop(name, None)
        for engine in closing:
            engine.close()

    def _encoder_for(self, backend: str | None) -> tuple[Settings, Encoder]:
        """The settings and the shared encoder of a tenant whose encoder backend is `backend`."""
        if backend is None or backend == self.settings.encoder.backend:
            return self.settings, self.encoder
        settings = self.settings.model_copy(update={"encoder": self.settings.encoder.model_copy(
            update={"backend": backend})})
        with self._guard:
            encoder = self._encoders.get(backend)
            if encoder is None:
                encoder = self._encoders[backend] = make_encoder(settings.encoder)
        return settings, encoder

    def llm_stats(self) -> dict[str, dict[str, float]]:
        """Each open tenant's LLM counters (tenants whose engine has made no LLM client yet are left out)."""
        with self._guard:
            engines = dict(self._engines)
        return {name: engine.llm_stats() for name, engine in engines.items() if engine.llm_stats()}

    def close(self) -> None:
        with self._guard:
            for engine in self._engines.values():
                engine.close()
            self._engines.clear()
            self._opened_as.clear()


def _validated(kind: type[M], service: M, changes: dict | None, name: str) -> M:
    """The service's settings of a kind with a tenant's changes; a TenantError names what is wrong."""
    try:
        return kind.model_validate({**service.model_dump(), **(changes or {})})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise TenantError(f"{name} settings: {problems}") from exc


def _now() -> datetime:
    return datetime.now(UTC)
