"""A request body limit that counts the bytes that arrive, not the Content-Length a client declares.

A chunked request declares no length, and a declared one may be false; the count is checked as each
chunk comes in, so an oversized body is refused (413) without being held in memory whole. Not
Starlette's RequestBodyLimitMiddleware: it answers a plain "Content Too Large" that names no limit,
and for a declared oversize body it replaces the service's own JSON answer with that text.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException
from starlette.responses import JSONResponse


class BodyTooLarge(HTTPException):
    # An HTTPException, so FastAPI's body parsing passes it on as the 413 it is (any other error there becomes a 400).
    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=f"request body too large: at most {max_bytes} bytes")


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` of body per request; ``on_refuse()`` is called for each refusal."""

    def __init__(self, app, max_bytes: int, on_refuse: Callable[[], None]) -> None:
        self.app, self.max_bytes, self.on_refuse = app, int(max_bytes), on_refuse

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            self.on_refuse()
            detail = BodyTooLarge(self.max_bytes).detail if declared.isdigit() else "unreadable Content-Length"
            await JSONResponse({"detail": detail}, status_code=413 if declared.isdigit() else 400)(scope, receive, send)
            return
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    self.on_refuse()
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge as exc:  # read outside a route (a middleware): answer here unless an answer began
            if started:
                raise
            await JSONResponse({"detail": exc.detail}, status_code=413)(scope, receive, send)
