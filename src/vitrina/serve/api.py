"""The /v1 routes: products, search, events and analytics per tenant; tenants and keys for admins."""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vitrina.catalog.feeds import Record, jsonl_records
from vitrina.catalog.registry import make_feed
from vitrina.catalog.validate import IngestReport, validate_rows
from vitrina.config import Settings
from vitrina.converse.history import Turn
from vitrina.engine import EmptyIndexError, Engine
from vitrina.events.analytics import Analytics
from vitrina.events.models import EventBatchResult, Impression, SearchRecord
from vitrina.experiments.interleave import INTERLEAVED, interleave_responses
from vitrina.index.protocol import FilterError
from vitrina.personalize.profile import ShopperProfile
from vitrina.personalize.store import recent_interactions
from vitrina.pipeline import SearchResponse
from vitrina.serve.logs import log
from vitrina.serve.service import Service
from vitrina.serve.tenants import KeyInfo, Scope, TenantError, TenantExists, TenantRegistry

M = TypeVar("M", bound=BaseModel)

router = APIRouter()
SCOPE_RANK = {"public": 0, "full": 1, "admin": 2}
bearer = HTTPBearer(auto_error=False, description="an API key: admin, a tenant's full key, or its public key")


# --- dependencies: each route asks for the pieces it uses, and tests can override any of them ---
def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_settings(service: ServiceDep) -> Settings:
    return service.settings


def get_tenants(service: ServiceDep) -> TenantRegistry:
    return service.tenants


def get_analytics(service: ServiceDep) -> Analytics:
    return service.analytics


SettingsDep = Annotated[Settings, Depends(get_settings)]
TenantsDep = Annotated[TenantRegistry, Depends(get_tenants)]
AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def tenant_engine(tenant: str, tenants: TenantsDep) -> Engine:
    return tenants.engine(tenant)


EngineDep = Annotated[Engine, Depends(tenant_engine)]


# --- authentication ---
def _authenticate(tenants: TenantRegistry, credentials: HTTPAuthorizationCredentials | None,
                  query_key: str | None = None) -> KeyInfo:
    key = credentials.credentials.strip() if credentials else query_key
    if not key:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'",
                            headers={"WWW-Authenticate": "Bearer"})
    info = tenants.authenticate(key)
    if info is None:
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return info


def tenant_access(scope: Scope, allow_query_key: bool = False):
    """A key for this tenant with at least `scope`. The pixel may pass its public key as ?key=, since
    navigator.sendBeacon cannot set headers."""

    def check(request: Request, tenant: str, tenants: TenantsDep, credentials: Credentials) -> KeyInfo:
        info = _authenticate(tenants, credentials, request.query_params.get("key") if allow_query_key else None)
        if info.scope != "admin" and info.tenant != tenant:
            raise HTTPException(403, f"this key is not valid for tenant {tenant!r}")
        if SCOPE_RANK[info.scope] < SCOPE_RANK[scope]:
            raise HTTPException(403, f"this {info.scope} key cannot do this; it needs a {scope} key")
        if not tenants.exists(tenant):
            raise HTTPException(404, f"no tenant {tenant!r}")
        return info

    return check


def admin_access(tenants: TenantsDep, credentials: Credentials) -> KeyInfo:
    info = _authenticate(tenants, credentials)
    if info.scope != "admin":
        raise HTTPException(403, "this needs an admin key")
    return info


PUBLIC = [Depends(tenant_access("public"))]
FULL = [Depends(tenant_access("full"))]
ADMIN = [Depends(admin_access)]


# --- request bodies ---
class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    history: list[str | Turn] = Field(default_factory=list, max_length=20)
    user_id: str | None = Field(default=None, max_length=256)
    session_id: str | None = Field(default=None, max_length=256)
    filters: dict[str, Any] | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    size: int = Field(default=10, ge=1, le=1000)  # at most settings.service.max_page_size
    profile: str | None = Field(default=None, max_length=64)  # a ranking profile; default: the service's


class TenantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    encoder: str | None = Field(default=None, max_length=64)  # an encoder backend; none: the service's
    llm: dict[str, Any] | None = None  # LLM settings that differ from the service's (base_url, model, api_key, ...)


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope: Scope = "full"
    label: str | None = Field(default=None, max_length=128)


def clean_query(text: str, limit: int, field: str = "query") -> str:
    """Control and format characters become spaces; an empty or over-long query is a 422, not a search."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise HTTPException(422, f"{field} is empty")
    if len(cleaned) > limit:
        raise HTTPException(422, f"{field} has {len(cleaned)} characters; the limit is {limit}")
    return cleaned


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"request body is not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def product_records(raw: bytes) -> list[Record]:
    """A JSON array of product objects, or JSON lines: numbered rows, bad ones carrying their reason."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"request body is not UTF-8 (byte {exc.start})") from exc
    if not text.strip():
        raise HTTPException(422, "no products in the request body")
    if text.lstrip().startswith("["):
        rows = _json_body(raw)
        return [(n, r, None) if isinstance(r, dict) else (n, None, "a row must be a JSON object")
                for n, r in enumerate(rows, start=1)]
    return list(jsonl_records(text.splitlines()))


# --- products ---
@router.post("/v1/{tenant}/products", response_model=IngestReport, dependencies=FULL)
async def upsert_products(tenant: str, request: Request, tenants: TenantsDep, service: ServiceDep,
                          feed: str = Query("tabular"), vectors: Literal["now", "later"] = Query("now")):
    """Batch upsert (JSON array or JSON lines), validated row by row; valid rows land even when others fail.
    vectors=later: searchable by words and filters when this returns, vectors filled in the background
    (GET /v1/{tenant}/vectors for progress)."""
    records = product_records(await request.body())
    try:
        adapter = make_feed(feed)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc

    def ingest() -> IngestReport:
        engine = tenants.engine(tenant)
        with tenants.lock(tenant):
            report = engine.ingest(list(validate_rows(adapter.map_records(records))), vectors=vectors)
        if report.vectors_later:
            service.fillers.start(tenant, engine, lambda: tenants.lock(tenant))
        return report

    report = await run_in_threadpool(ingest)
    log(service.logger, "products upserted", tenant=tenant, rows=report.rows, upserted=report.upserted,
        rejected=len(report.rejected))
    status = 422 if report.rejected and not report.upserted else 200
    return JSONResponse(report.model_dump(), status_code=status)


@router.get("/v1/{tenant}/vectors", dependencies=FULL)
def vector_progress(tenant: str, engine: EngineDep, service: ServiceDep):
    """How far the background fill of vectors is (after an ingest with vectors=later)."""
    return service.fillers.progress(tenant, engine)


@router.get("/v1/{tenant}/products/{product_id}", dependencies=PUBLIC)
def get_product(tenant: str, product_id: str, engine: EngineDep):
    product = engine.get(product_id)
    if product is None:
        raise HTTPException(404, f"no product {product_id!r} in tenant {tenant!r}")
    return product


@router.delete("/v1/{tenant}/products/{product_id}", dependencies=FULL)
def delete_product(tenant: str, product_id: str, engine: EngineDep, tenants: TenantsDep):
    with tenants.lock(tenant):
        if engine.get(product_id) is None:
            raise HTTPException(404, f"no product {product_id!r} in tenant {tenant!r}")
        engine.delete([product_id])
    return {"deleted": product_id}


# --- search ---
@router.post("/v1/{tenant}/search", dependencies=PUBLIC)
def search(tenant: str, body: SearchRequest, engine: EngineDep, settings: SettingsDep, service: ServiceDep):
    """The same response as `vitrina search --json`; logged with what was shown at which position."""
    limit = settings.max_query_chars
    if body.size > settings.service.max_page_size:
        raise HTTPException(422, f"size {body.size} is over the page size limit of {settings.service.max_page_size}")
    if body.size * body.page > settings.max_result_window:
        raise HTTPException(422, f"page x size = {body.size * body.page} is past the result window of "
                                 f"{settings.max_result_window}: refine the search instead of paging deeper")
    query = clean_query(body.query, limit)
    history = [Turn(query=clean_query(t, limit, "history")) if isinstance(t, str) else
               Turn(query=clean_query(t.query, limit, "history"), shown=t.shown) for t in body.history]
    started = time.perf_counter()
    profile = body.profile or service.profile
    experiment = service.experiments.running(tenant) if body.profile is None else None
    variant, teams = None, None
    if experiment is not None and experiment.kind == "ab":
        unit = body.user_id if experiment.unit == "user" else body.session_id
        variant = experiment.assign(unit) if unit else None  # anonymous shoppers are left out of an A/B test
        profile = variant.profile if variant else profile
    interleaving = experiment is not None and experiment.kind == "interleave" and body.page == 1
    if profile is not None and profile not in engine.profiles.profiles:
        raise HTTPException(422, f"no ranking profile {profile!r}; known: {', '.join(sorted(engine.profiles.profiles))}")
    shopper = shopper_profile(service, tenant, engine, body.user_id)
    with engine_errors(tenant):  # no tenant lock: searches run side by side, an ingest swaps generations (Engine)
        if experiment is not None and interleaving:
            control, challenger = (engine.search(query, history=history, filters=body.filters, size=body.size,
                                                 profile=v.profile) for v in experiment.variants)
            response, teams = interleave_responses(control, challenger, body.size,
                                                   (experiment.variants[0].name, experiment.variants[1].name))
        else:
            response = engine.search(query, history=history, filters=body.filters, size=body.size,
                                     page=body.page, profile=profile, shopper=shopper)
    if experiment is not None and (variant is not None or teams is not None):
        shown_as = variant.name if variant is not None else INTERLEAVED
        service.experiments.record(tenant, response.search_id, experiment.name, shown_as, teams)
        response = response.model_copy(update={"experiment": {"experiment": experiment.name, "variant": shown_as}})
    record_search(service, tenant, response, query, started, user_id=body.user_id, session_id=body.session_id,
                  filters=body.filters, page=body.page, size=body.size)
    return Response(response.model_dump_json(), media_type="application/json")


@contextmanager
def engine_errors(tenant: str) -> Iterator[None]:
    """What an engine call raises, as the API answers it: a bad filter 422, a tenant without a catalog 409."""
    try:
        yield
    except FilterError as exc:  # an unknown filter field or a value of the wrong kind
        raise HTTPException(422, str(exc)) from exc
    except EmptyIndexError as exc:
        raise HTTPException(409, f"tenant {tenant!r} has no catalog yet: POST /v1/{tenant}/products first") from exc


def shopper_profile(service: Service, tenant: str, engine: Engine, user_id: str | None) -> ShopperProfile | None:
    """A signed-in shopper's profile from their latest events, where the tenant personalises; None otherwise
    (anonymous shoppers, and shoppers with no events, get the plain ranking)."""
    mine = engine.settings.personalization
    if not user_id or not mine.enabled:
        return None
    profile = engine.shopper_profile(user_id, recent_interactions(service.db, tenant, user_id, mine.max_interactions))
    return profile if profile.known else None


def record_search(service: Service, tenant: str, response: SearchResponse, query: str, started: float,
                  user_id: str | None = None, session_id: str | None = None, filters: dict | None = None,
                  page: int = 1, size: int = 10) -> None:
    """The search log (what was shown at which position, for attributing events), metrics and a log line."""
    first = (page - 1) * size + 1
    shown = [Impression(position=first + i, product_id=str(h.product.get("id")), first_rank=h.explanation.first_rank,
                        signals=h.explanation.signals or None) for i, h in enumerate(response.hits)]
    took = round((time.perf_counter() - started) * 1000, 3)
    service.events.log_search(tenant, SearchRecord(
        search_id=response.search_id, query=query, user_id=user_id, session_id=session_id,
        filters=filters, page=page, size=size, total=response.total, took_ms=took, shown=shown))
    service.metrics.observe_stages(response.timings)
    log(service.logger, "search", tenant=tenant, search_id=response.search_id, query=query, hits=len(shown),
        total=response.total, ms=took)


# --- events ---
@router.post("/v1/{tenant}/events", response_model=EventBatchResult,
             dependencies=[Depends(tenant_access("public", allow_query_key=True))])
async def post_events(tenant: str, request: Request, service: ServiceDep):
    """A batch of events; invalid ones are rejected one by one, valid ones stored once per event_id."""
    body = _json_body(await request.body())
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise HTTPException(422, 'expected a JSON object {"events": [...]}')
    batch = body["events"]
    limit = service.settings.service.max_events_per_batch
    if len(batch) > limit:
        raise HTTPException(413, f"{len(batch)} events in one batch; the limit is {limit}")
    result = await run_in_threadpool(service.events.record_events, tenant, batch)
    if service.settings.learning.enabled and result.stored:
        service.learners.get(tenant)  # so the worker looks at this tenant's new events
    _count_events(service, tenant, batch, result)
    log(service.logger, "events", tenant=tenant, received=result.received, stored=len(result.stored),
        duplicates=len(result.duplicates), rejected=len(result.rejected), unknown_search=len(result.unknown_search))
    status = 422 if result.rejected and not (result.stored or result.duplicates) else 200
    return JSONResponse(result.model_dump(), status_code=status)


def _count_events(service: Service, tenant: str, batch: list, result: EventBatchResult) -> None:
    type_of = {e.get("event_id"): e.get("type") for e in batch if isinstance(e, dict)}
    for outcome, ids in (("stored", result.stored), ("duplicate", result.duplicates),
                         ("unknown_search", result.unknown_search)):
        for event_id in ids:
            service.metrics.events.labels(tenant, str(type_of.get(event_id)), outcome).inc()
    for _ in {r.index for r in result.rejected}:  # one count per event, however many fields were wrong
        service.metrics.events.labels(tenant, "invalid", "rejected").inc()


# --- analytics ---
@router.get("/v1/{tenant}/analytics/summary", dependencies=FULL)
def analytics_summary(tenant: str, analytics: AnalyticsDep):
    return analytics.summary(tenant)


@router.get("/v1/{tenant}/analytics/queries", dependencies=FULL)
def analytics_queries(tenant: str, analytics: AnalyticsDep, limit: int = Query(50, ge=1, le=1000)):
    return analytics.queries(tenant, limit)


@router.get("/v1/{tenant}/analytics/products", dependencies=FULL)
def analytics_products(tenant: str, analytics: AnalyticsDep, limit: int = Query(50, ge=1, le=1000)):
    return analytics.products(tenant, limit)


@router.get("/v1/{tenant}/analytics/positions", dependencies=FULL)
def analytics_positions(tenant: str, analytics: AnalyticsDep, deepest: int = Query(50, ge=1, le=1000)):
    return analytics.positions(tenant, deepest)


@router.get("/v1/{tenant}/analytics/searches/{search_id}", dependencies=FULL)
def analytics_search(tenant: str, search_id: str, analytics: AnalyticsDep):
    detail = analytics.search(tenant, search_id)
    if detail is None:
        raise HTTPException(404, f"no search {search_id!r} in tenant {tenant!r}")
    return detail


# --- tenants and keys ---
@router.post("/v1/admin/tenants", status_code=201, dependencies=ADMIN)
def create_tenant(body: TenantRequest, tenants: TenantsDep):
    """A new tenant with its own index, event stream and keys: a full key and a public (storefront) key."""
    try:
        tenants.create(body.name, encoder=body.encoder, llm=body.llm)
    except TenantExists as exc:
        raise HTTPException(409, str(exc)) from exc
    except TenantError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"tenant": body.name, "full_key": tenants.add_key(body.name, "full", label="created with tenant"),
            "public_key": tenants.add_key(body.name, "public", label="created with tenant")}


@router.put("/v1/admin/tenants/{tenant}/llm", dependencies=ADMIN)
def set_tenant_llm(tenant: str, body: dict[str, Any], tenants: TenantsDep):
    """A tenant's own LLM endpoint, model, key, budget (LLMSettings fields; {} for the service's). The key is
    stored in the service database and never returned."""
    settings = _tenant_setting(tenants, tenant, lambda: tenants.set_llm(tenant, body or None))
    return {"tenant": tenant, "llm": settings.model_dump(mode="json", exclude={"api_key"})}


@router.put("/v1/admin/tenants/{tenant}/personalization", dependencies=ADMIN)
def set_tenant_personalization(tenant: str, body: dict[str, Any], tenants: TenantsDep):
    """A tenant's personalisation: {"enabled": false} switches it off, {"strength": 2} doubles it ({} for the
    service's settings)."""
    settings = _tenant_setting(tenants, tenant, lambda: tenants.set_personalization(tenant, body or None))
    return {"tenant": tenant, "personalization": settings.model_dump(mode="json")}


def _tenant_setting(tenants: TenantRegistry, tenant: str, change: Callable[[], M]) -> M:
    """A tenant's settings change: 404 for an unknown tenant, 422 naming what is wrong with the change."""
    if not tenants.exists(tenant):
        raise HTTPException(404, f"no tenant {tenant!r}")
    try:
        return change()
    except TenantError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.post("/v1/admin/tenants/{tenant}/keys", status_code=201, dependencies=ADMIN)
def create_key(tenant: str, body: KeyRequest, tenants: TenantsDep):
    if not tenants.exists(tenant):
        raise HTTPException(404, f"no tenant {tenant!r}")
    if body.scope == "admin":
        raise HTTPException(422, "admin keys are not tied to a tenant")
    return {"tenant": tenant, "scope": body.scope, "key": tenants.add_key(tenant, body.scope, label=body.label)}
