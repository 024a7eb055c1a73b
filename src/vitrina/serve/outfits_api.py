"""Complete the look and frequently bought together: /v1/{tenant}/outfit and
/v1/{tenant}/products/{id}/complementary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from vitrina.engine import Engine
from vitrina.recommend.models import Outfit
from vitrina.recommend.together import bought_together
from vitrina.serve.api import PUBLIC, EngineDep, ServiceDep, engine_errors

router = APIRouter()


class OutfitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(default="", max_length=512)  # "an outfit for a beach wedding under 5000"
    product_id: str | None = None  # build the look around this product
    budget: float | None = Field(default=None, gt=0)  # for the products the look adds (else the query's price)
    filters: dict[str, Any] | None = None


class Complement(BaseModel):
    product: dict
    reasons: list[str]


class Complementary(BaseModel):
    product_id: str
    items: list[Complement]


def _outfit(engine: Engine, tenant: str, request: OutfitRequest) -> Outfit:
    try:
        with engine_errors(tenant):
            outfit = engine.outfit(request.query, request.product_id, request.budget, request.filters)
    except KeyError as exc:
        raise HTTPException(404, f"no product {request.product_id!r} in tenant {tenant!r}") from exc
    if outfit is None:
        raise HTTPException(404, f"the {engine.settings.domain!r} rules define no outfits (rules/<domain>/outfits.json)")
    return outfit


@router.post("/v1/{tenant}/outfit", response_model=Outfit, dependencies=PUBLIC)
def outfit(tenant: str, body: OutfitRequest, engine: EngineDep):
    """A complete look: one real product per slot, within the budget, each with why."""
    if not body.query.strip() and body.product_id is None:
        raise HTTPException(422, "give a query (\"an outfit for a beach wedding\") or a product_id, or both")
    return _outfit(engine, tenant, body)


@router.get("/v1/{tenant}/products/{product_id}/complementary", response_model=Complementary, dependencies=PUBLIC)
def complementary(tenant: str, product_id: str, engine: EngineDep, service: ServiceDep,
                  size: int = Query(8, ge=1, le=50)):
    """What goes with a product: what its shoppers also carted or bought (the tenant's events) first, then the
    rest of a look built around it (the compatibility rules: the cold start)."""
    if engine.get(product_id) is None:
        raise HTTPException(404, f"no product {product_id!r} in tenant {tenant!r}")
    together = bought_together(service.db, tenant, product_id, size)
    records = engine.records([pid for pid, _ in together])
    items = [Complement(product=records[pid], reasons=[f"bought together by {n} shopper{'s' * (n != 1)}"])
             for pid, n in together if pid in records]
    if len(items) < size and engine.outfit_rules is not None:
        seen = {product_id, *(i.product["id"] for i in items)}
        look = _outfit(engine, tenant, OutfitRequest(product_id=product_id))
        items += [Complement(product=i.product, reasons=i.reasons) for i in look.items
                  if not i.given and i.product["id"] not in seen][:size - len(items)]
    return Complementary(product_id=product_id, items=items)
