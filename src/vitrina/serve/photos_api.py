"""Search by photo and "visually similar": /v1/{tenant}/search/image and /v1/{tenant}/products/{id}/similar.

A photo comes as the raw request body (`curl --data-binary @photo.jpg`), whatever its Content-Type, with `size`
and `filters` (JSON) in the query string; or as JSON {"image": <base64>, "filters": {...}, "size": n}. Both are
logged like any search, so clicks on their hits are attributed."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from vitrina.events.models import Impression, SearchRecord
from vitrina.serve.api import PUBLIC, EngineDep, ServiceDep, engine_errors
from vitrina.vision.images import ImageError
from vitrina.vision.search import PhotoSearchResponse

router = APIRouter()
MAX_PHOTO_BYTES = 10 * 2**20


def _filters(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HTTPException(422, f"filters: not JSON ({exc.msg})") from exc
    if not isinstance(value, dict):
        raise HTTPException(422, "filters: a JSON object of field -> value")
    return value


def _photo(raw: bytes, size: int, filters: dict | None) -> tuple[bytes, int, dict | None]:
    """(photo bytes, size, filters) from a raw or a JSON body."""
    if raw[:1] != b"{":
        return raw, size, filters
    try:
        body = json.loads(raw)
        photo = base64.b64decode(body["image"], validate=True)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"malformed JSON body: {exc}") from exc
    except (KeyError, TypeError, binascii.Error) as exc:
        raise HTTPException(422, "image: the photo as base64 text is required in a JSON body") from exc
    chosen = body.get("size", size)
    if not isinstance(chosen, int) or not 1 <= chosen <= 100:
        raise HTTPException(422, "size: a whole number from 1 to 100")
    given = body.get("filters", filters)
    if given is not None and not isinstance(given, dict):
        raise HTTPException(422, "filters: a JSON object of field -> value")
    return photo, chosen, given


def _log(service, tenant: str, response: PhotoSearchResponse, started: float, size: int,
         filters: dict | None) -> Response:
    shown = [Impression(position=i + 1, product_id=str(h.product.get("id"))) for i, h in enumerate(response.hits)]
    service.events.log_search(tenant, SearchRecord(
        search_id=response.search_id, query=f"[{response.query}]", filters=filters, page=1, size=size,
        total=len(shown), took_ms=round((time.perf_counter() - started) * 1000, 3), shown=shown))
    return Response(response.model_dump_json(), media_type="application/json")


@router.post("/v1/{tenant}/search/image", dependencies=PUBLIC)
async def search_image(tenant: str, request: Request, engine: EngineDep, service: ServiceDep,
                       size: int = Query(10, ge=1, le=100), filters: str | None = Query(None)):
    """Products that look like the photo: its vector against the products' photos and descriptions."""
    started = time.perf_counter()
    raw = await request.body()
    if not raw:
        raise HTTPException(422, "no photo in the request body")
    if len(raw) > MAX_PHOTO_BYTES:
        raise HTTPException(413, f"a photo of {len(raw)} bytes is over the {MAX_PHOTO_BYTES}-byte limit")
    photo, size, given = _photo(raw, size, _filters(filters))
    try:
        with engine_errors(tenant):
            response = engine.search_image(photo, given, size)
    except ImageError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _log(service, tenant, response, started, size, given)


@router.get("/v1/{tenant}/products/{product_id}/similar", dependencies=PUBLIC)
def similar(tenant: str, product_id: str, engine: EngineDep, service: ServiceDep,
            size: int = Query(10, ge=1, le=100), filters: str | None = Query(None)):
    """Products that look like this one (its photo; its description where it has none), its type first."""
    started = time.perf_counter()
    given = _filters(filters)
    with engine_errors(tenant):
        response = engine.similar(product_id, given, size)
    if response is None:
        raise HTTPException(404, f"no product {product_id!r} in tenant {tenant!r}")
    return _log(service, tenant, response, started, size, given)
