"""The web application: ``create_app(settings)`` builds it, one per worker process.

Input: :class:`~lanner.settings.Settings` (``db_url`` names the archive; with none given,
the environment's, so ``uvicorn --factory lanner.serve.app:create_app`` works). Output: a
FastAPI application with

* ``/api/…`` — the Lasair-compatible REST API (:mod:`lanner.serve.lasair`);
* ``/api/v1/…`` — Lanner's own API (:mod:`lanner.serve.v1`);
* the web site (:mod:`lanner.web`) and its static files at ``/static/``;
* ``/api/openapi.json`` and the browsable docs at ``/api/docs``; ``/metrics``.

Side effects: opens the archive (it must exist: the server never creates or upgrades it),
one connection per serving thread; logs one access line per request with any ``token``
query parameter replaced by ``***``.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lanner.batch import Survey
from lanner.serve.errors import ApiError
from lanner.serve.jsonout import LannerJSONResponse
from lanner.serve.metrics import ServerMetrics
from lanner.serve.stores import StorePool
from lanner.settings import Settings

log = logging.getLogger("lanner.serve")
access_log = logging.getLogger("lanner.serve.access")

#: Where the web site's static files are (served at ``/static/``).
STATIC_DIR = Path(__file__).resolve().parents[1] / "web" / "static"
_SECRET_PARAM = re.compile(r"(?i)(^|&)(token|password|api_key)=[^&]*")


@dataclass
class ServerState:
    """What every request of one process shares."""

    settings: Settings
    stores: StorePool
    metrics: ServerMetrics
    survey: Survey


def redact(query: str) -> str:
    """A query string with the values of ``token``, ``password`` and ``api_key`` hidden."""
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", query)


class AccessMiddleware:
    """Times each request, counts it by route template, and logs it without secrets."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(template, scope["method"], status, elapsed)
            query = redact(scope.get("query_string", b"").decode("latin-1"))
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s "%s %s%s" %d %.1fms',
                client[0],
                scope["method"],
                scope["path"],
                f"?{query}" if query else "",
                status,
                elapsed * 1000,
            )


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return LannerJSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


def _validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own parameter errors, in DRF's ``{field: [message]}`` shape."""
    assert isinstance(exc, RequestValidationError)
    body: dict[str, list[str]] = {}
    for err in exc.errors():
        field = str(err["loc"][-1]) if err.get("loc") else "non_field_errors"
        body.setdefault(field, []).append(str(err.get("msg", "invalid")))
    return LannerJSONResponse(body, status_code=400)


def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's errors as JSON; a 405 lists in ``Allow`` every method of the path (its
    GET and POST are separate routes)."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = [
            method
            for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
            if any(
                route.matches({**request.scope, "method": method})[0] == Match.FULL
                for route in request.app.router.routes
            )
        ]
        headers["Allow"] = ", ".join(allowed)
    return LannerJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def _read_survey(stores: StorePool) -> Survey:
    from lanner.store import StoreError

    with stores.session() as store:
        survey = store.survey
    if survey is None:
        raise StoreError(f"the database {stores.db_url} has no survey yet: ingest alerts first")
    return survey


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application serving ``settings.db_url`` (the environment's settings if none)."""
    from lanner.observe.logs import configure_logging
    from lanner.serve.lasair import lasair4_router
    from lanner.serve.lasair import router as lasair_router
    from lanner.serve.v1 import router as v1_router
    from lanner.web import router as web_router

    settings = settings if settings is not None else Settings()
    configure_logging(settings.log_level, settings.log_format)
    stores = StorePool(settings.db_url)
    metrics = ServerMetrics()
    state = ServerState(settings, stores, metrics, _read_survey(stores))
    _warm_up()
    app = FastAPI(
        title="Lanner",
        summary="Alert broker for Rubin and ZTF: Lasair-compatible REST API and Lanner's own.",
        version=_version(),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        default_response_class=LannerJSONResponse,
    )
    app.state.lanner = state
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(AccessMiddleware, metrics=metrics)
    app.include_router(lasair_router)
    if state.survey == "ztf":
        app.include_router(lasair4_router)
    app.include_router(v1_router)
    app.include_router(web_router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    @app.get("/api/health", include_in_schema=False)
    def health() -> dict[str, Any]:
        return {"status": "ok", "survey": state.survey}

    app.router.on_shutdown.append(stores.close)
    return app


def _warm_up() -> None:
    """Compute once what object answers need (astropy's frame rotations), so no request
    pays for it."""
    from lanner.serve.coordinates import rotations

    rotations()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lanner")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"
