"""The FastAPI app: routes, the storefront page and pixel, metrics, health, and errors that are always 4xx
with a reason when the request is at fault."""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import vitrina
from vitrina.serve.api import router
from vitrina.serve.chat_api import router as chat_router
from vitrina.serve.experiments_api import router as experiments_router
from vitrina.serve.json_body import JsonBody
from vitrina.serve.learning_api import router as learning_router
from vitrina.serve.limits import BodySizeLimit
from vitrina.serve.outfits_api import router as outfits_router
from vitrina.serve.photos_api import router as photos_router
from vitrina.serve.service import DEFAULT_TENANT, Service

STATIC = Path(__file__).parent / "static"


def create_app(service: Service, worker: bool = False) -> FastAPI:
    """worker: one of several processes serving this service (vitrina.serve.workers): it follows the others,
    and the parent process learns."""

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        service.open_engines()
        service.start_following() if worker else service.start_learning()
        yield
        service.close()

    app = FastAPI(title="Vitrina", version=vitrina.__version__, lifespan=lifespan,
                  description="Product search that understands shoppers, and learns from every search.")
    app.state.service = service
    app.include_router(router)
    app.include_router(learning_router)
    app.include_router(experiments_router)
    app.include_router(chat_router)
    app.include_router(photos_router)
    app.include_router(outfits_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _errors(app)

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        service.metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        service.metrics.latency.labels(route).observe(time.perf_counter() - started)
        if response.status_code >= 400:
            service.metrics.errors.labels(route, str(response.status_code)).inc()
        return response

    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "DELETE"],
                       allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodySizeLimit, max_bytes=service.settings.service.max_body_bytes)
    app.add_middleware(JsonBody)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def storefront() -> str:
        config = {"tenant": DEFAULT_TENANT, "key": service.keys.default_public, "endpoint": ""}
        page = (STATIC / "storefront.html").read_text(encoding="utf-8")
        # "</" cannot close the script tag from inside the JSON.
        return page.replace("/*CONFIG*/", "window.VITRINA_CONFIG = " + json.dumps(config).replace("</", "<\\/") + ";")

    @app.get("/pixel.js", include_in_schema=False)
    def pixel() -> Response:
        return Response((STATIC / "pixel.js").read_bytes(), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=300"})

    @app.get("/images/{name}", include_in_schema=False)
    def image(name: str) -> Response:
        found = service.images.read(name)
        if found is None:
            raise HTTPException(404, f"no image {name!r}")
        data, media = found
        return Response(data, media_type=media, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/healthz")
    def healthz() -> dict:
        with service.db.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "tenants": len(service.tenants.names())}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(service.metrics.exposition(), media_type="text/plain; version=0.0.4")

    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return JSONResponse({"error": "malformed JSON", "problems": problems}, status_code=400)
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        service: Service = request.app.state.service
        service.logger.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return JSONResponse({"error": "internal error"}, status_code=500)
