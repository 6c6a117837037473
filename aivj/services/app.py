"""``create_app``: the FastAPI app every service starts from.

``/health`` and ``/metrics`` are open (probes and Prometheus scrape them); every router a service
passes in sits behind the API key (``X-API-Key``) and the per-client rate limit. ``tier_routers``
take an optional key: without one the request is the free tier (``request.state.client`` None, a
per-address limit), with one it is the key's client; an unknown key is refused, never served as
free. ``open_routers`` check their own credentials (the rollback webhook takes Alertmanager's
bearer token, which cannot send an API key header). The client's name is on ``request.state.client``
(``current_client``). Every body is limited to ``settings.max_body_bytes`` as it arrives. Each app
has its own Prometheus registry, so two apps in one process (tests) do not share counters.
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
from aivj.services.bodylimit import BodyLimit, BodyTooLarge
from aivj.services.keys import KeyStore
from aivj.services.ratelimit import RateLimiter
from aivj.services.settings import ServiceSettings

API_KEY_HEADER = "X-API-Key"
# What the key check and the rate limit may answer on every guarded route, so the OpenAPI spec says so.
GUARDED_RESPONSES = {401: {"description": f"missing or unknown {API_KEY_HEADER}"}, 429: {"description": "rate limit"}}


class CountRequests:
    """ASGI middleware counting answers by route and status. Not a BaseHTTPMiddleware: that one reads the
    body in a task group, which wraps the body limit's 413 in an ExceptionGroup the route cannot answer."""

    def __init__(self, app, counter: Counter, service: str) -> None:
        self.app, self.counter, self.service = app, counter, service

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = "500"

        async def noting_send(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            self.counter.labels(self.service, getattr(scope.get("route"), "path", "unmatched"), status).inc()


def current_client(request: Request) -> str | None:
    """The client the key check named (None: the free tier); a dependency for a route's own use."""
    return getattr(request.state, "client", None)


def create_app(
    settings: ServiceSettings | None = None,
    routers: Iterable[APIRouter] = (),
    clock: Callable[[], float] = time.monotonic,
    open_routers: Iterable[APIRouter] = (),
    tier_routers: Iterable[APIRouter] = (),
) -> FastAPI:
    settings = settings or ServiceSettings()
    keys, limiter = KeyStore(settings.keys_file()), RateLimiter(settings.rate_limit_per_minute, clock)
    free_limiter = RateLimiter(settings.free_rate_limit_per_minute, clock)
    registry = CollectorRegistry()
    requests = Counter("aivj_requests", "HTTP requests by route and status", ["service", "route", "status"], registry=registry)
    refused = Counter("aivj_refused", "Requests refused before the route ran", ["service", "reason"], registry=registry)
    header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)

    def limit(bucket: str, by: RateLimiter, per_minute: int, who: str = "") -> None:
        if not by.allow(bucket):
            refused.labels(settings.name, "rate_limit").inc()
            raise HTTPException(
                status_code=429, detail=f"{who}more than {per_minute} requests a minute", headers={"Retry-After": "60"}
            )

    def client(request: Request, key: str | None = Depends(header)) -> str:
        name = keys.client_of(key) if settings.require_api_key else (key and keys.client_of(key)) or "anonymous"
        if name is None:
            refused.labels(settings.name, "api_key").inc()
            raise HTTPException(status_code=401, detail=f"missing or unknown {API_KEY_HEADER}")
        limit(name, limiter, settings.rate_limit_per_minute)
        request.state.client = name
        return name

    def tier(request: Request, key: str | None = Depends(header)) -> str | None:
        """The key's client, or None (the free tier) when no key is sent."""
        if not key:
            address = request.client.host if request.client else "unknown"
            limit(f"free:{address}", free_limiter, settings.free_rate_limit_per_minute, "free tier: ")
            request.state.client = None
            return None
        name = keys.client_of(key)
        if name is None:
            refused.labels(settings.name, "api_key").inc()
            raise HTTPException(status_code=401, detail=f"unknown {API_KEY_HEADER} (leave it out for the free tier)")
        limit(name, limiter, settings.rate_limit_per_minute)
        request.state.client = name
        return name

    app = FastAPI(title=f"aivj {settings.name}", version=__version__)
    app.state.settings, app.state.keys, app.state.metrics = settings, keys, registry
    too_large = {413: {"description": BodyTooLarge(settings.max_body_bytes).detail}}

    @app.exception_handler(RequestValidationError)
    async def refuse_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes each bad input back, and a NaN in it makes the JSON encoder raise (a 500)
        errors = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in exc.errors()]
        return JSONResponse({"detail": errors[:50]}, status_code=422)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "service": settings.name, "version": __version__}

    @app.get("/metrics", response_class=PlainTextResponse)  # the spec says text, as Prometheus' exposition is
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router, dependencies=[Depends(client)], responses={**GUARDED_RESPONSES, **too_large})
    for router in tier_routers:
        app.include_router(router, dependencies=[Depends(tier)], responses={**GUARDED_RESPONSES, **too_large})
    for router in open_routers:
        app.include_router(router)
    app.add_middleware(CountRequests, counter=requests, service=settings.name)
    # outermost: a declared oversize body is refused before any route runs; one that grows too large, as it arrives
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, on_refuse=refused.labels(settings.name, "body_size").inc)
    return app
