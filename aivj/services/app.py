"""``create_app``: the FastAPI app every service starts from.

``/health`` and ``/metrics`` are open (probes and Prometheus scrape them); every router a service
passes in sits behind the API key (``X-API-Key``) and the per-client rate limit, except
``open_routers``: those check their own credentials (the rollback webhook takes Alertmanager's
bearer token, which cannot send an API key header). Each app has its
own Prometheus registry, so two apps in one process (tests) do not share counters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import APIKeyHeader
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
)

from aivj import __version__
from aivj.services.keys import KeyStore
from aivj.services.ratelimit import RateLimiter
from aivj.services.settings import ServiceSettings

API_KEY_HEADER = "X-API-Key"
# What the key check and the rate limit may answer on every guarded route, so the OpenAPI spec says so.
GUARDED_RESPONSES = {401: {"description": f"missing or unknown {API_KEY_HEADER}"}, 429: {"description": "rate limit"}}


def create_app(
    settings: ServiceSettings | None = None,
    routers: Iterable[APIRouter] = (),
    clock: Callable[[], float] = time.monotonic,
    open_routers: Iterable[APIRouter] = (),
) -> FastAPI:
    settings = settings or ServiceSettings()
    keys, limiter = KeyStore(settings.keys_file()), RateLimiter(settings.rate_limit_per_minute, clock)
    registry = CollectorRegistry()
    requests = Counter("aivj_requests", "HTTP requests by route and status", ["service", "route", "status"], registry=registry)
    refused = Counter("aivj_refused", "Requests refused before the route ran", ["service", "reason"], registry=registry)
    header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)

    def client(key: str | None = Depends(header)) -> str:
        name = keys.client_of(key) if settings.require_api_key else (key and keys.client_of(key)) or "anonymous"
        if name is None:
            refused.labels(settings.name, "api_key").inc()
            raise HTTPException(status_code=401, detail=f"missing or unknown {API_KEY_HEADER}")
        if not limiter.allow(name):
            refused.labels(settings.name, "rate_limit").inc()
            raise HTTPException(
                status_code=429,
                detail=f"more than {settings.rate_limit_per_minute} requests a minute",
                headers={"Retry-After": "60"},
            )
        return name

    app = FastAPI(title=f"aivj {settings.name}", version=__version__)
    app.state.settings, app.state.keys, app.state.metrics = settings, keys, registry

    @app.exception_handler(RequestValidationError)
    async def refuse_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes each bad input back, and a NaN in it makes the JSON encoder raise (a 500)
        errors = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in exc.errors()]
        return JSONResponse({"detail": errors[:50]}, status_code=422)

    @app.middleware("http")
    async def count(request: Request, call_next):
        response = await call_next(request)
        route = request.scope.get("route")
        requests.labels(settings.name, getattr(route, "path", "unmatched"), str(response.status_code)).inc()
        return response

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "service": settings.name, "version": __version__}

    @app.get("/metrics", response_class=PlainTextResponse)  # the spec says text, as Prometheus' exposition is
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router, dependencies=[Depends(client)], responses=GUARDED_RESPONSES)
    for router in open_routers:
        app.include_router(router)
    return app
