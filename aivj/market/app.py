"""The market service on ``aivj.services.create_app`` (/health, /metrics, hashed API keys, rate limits).

Free tier: no API key; the ``free_top`` best elite templates (browse, preview, similar), rate-limited
per client address. Premium: ``X-API-Key``; every elite template, the client's own uploads, uploads
and downloads. A key that is sent but unknown is refused (401), never served as free. Routes that
both tiers use are create_app's ``tier_routers`` (the key optional); uploads and downloads sit behind
its key check. The body limit is create_app's (``upload.max_body_bytes``). A template a tier may not
see answers 404 whether it exists or not.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from prometheus_client import Counter

from aivj.market.store import MILK_FILES, PREVIEW_FILE, Store, public
from aivj.market.uploads import Rejected, Uploader, check_text
from aivj.milk.features import extract_features
from aivj.services.app import create_app, current_client
from aivj.services.settings import ServiceSettings

STATIC = Path(__file__).parent / "static"
PAGE_FILES = {"market.js": "text/javascript", "market.css": "text/css"}
PAGE_LIMIT = 200  # templates a listing request returns at most


def _not_found(tid: str, client: str | None) -> HTTPException:
    tier = "the free tier (the top elite templates; an API key opens the whole library)" if client is None else "this market"
    return HTTPException(404, f"no template {tid} in {tier}")


def _features(label: str, text: object, max_bytes: int) -> np.ndarray:
    try:
        _, preset = check_text(label, f"{label.lower()}.milk", text, max_bytes)
    except Rejected as exc:
        raise HTTPException(exc.status, exc.reason) from None
    return extract_features(preset)


def market_routers(cfg, store: Store, uploader: Uploader, counters: dict):
    """(the page, open; routes both tiers use; routes behind the API key). The client is create_app's (None: free)."""
    tier = current_client

    def summary(record: dict, client: str | None) -> dict:
        out = public(record)
        out["downloadable"] = client is not None and record["fg"].get("file") is not None
        return out

    def visible(tid: str, client: str | None) -> dict:
        record = store.get(tid, client)
        if record is None:
            raise _not_found(tid, client)
        return record

    def answer(hits, client) -> dict:
        return {
            "tier": "free" if client is None else "premium",
            "results": [{"distance": round(d, 6), **summary(r, client)} for r, d in hits],
        }

    page_router, both, premium = APIRouter(), APIRouter(), APIRouter()

    @page_router.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @page_router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name not in PAGE_FILES:
            raise HTTPException(404, f"no static file {name}")
        return FileResponse(STATIC / name, media_type=PAGE_FILES[name])

    @both.get("/api/tier")
    def whoami(client: str | None = Depends(tier)) -> dict:
        return {"tier": "free" if client is None else "premium", "client": client, "templates": len(store.listing(client))}

    @both.get("/api/templates")
    def listing(
        client: str | None = Depends(tier), offset: int = Query(0, ge=0), limit: int = Query(60, ge=1, le=PAGE_LIMIT)
    ) -> dict:
        rows = store.listing(client)
        return {
            "tier": "free" if client is None else "premium",
            "total": len(rows),
            "offset": offset,
            "templates": [summary(r, client) for r in rows[offset : offset + limit]],
        }

    @both.get("/api/templates/{tid}")
    def detail(tid: str, client: str | None = Depends(tier)) -> dict:
        return summary(visible(tid, client), client)

    @both.get("/api/templates/{tid}/preview.webp")
    def preview(tid: str, client: str | None = Depends(tier)) -> Response:
        record = visible(tid, client)
        if not record.get("preview"):
            raise HTTPException(404, f"template {tid} has no preview: {record.get('preview_note')}")
        data = (record["_dir"] / PREVIEW_FILE).read_bytes()
        return Response(data, media_type="image/webp", headers={"Cache-Control": "private, max-age=3600"})

    @both.get("/api/templates/{tid}/similar")
    def similar(tid: str, client: str | None = Depends(tier), k: int = Query(10, ge=1)) -> dict:
        record = visible(tid, client)
        query = store.space.pair(np.asarray(record["fg"]["features"]), np.asarray(record["bg"]["features"]))
        return answer(store.nearest(client, pair=query, k=min(k, int(cfg.similar.max_k)), exclude=[tid]), client)

    @both.post("/api/similar")
    async def similar_to(request: Request, client: str | None = Depends(tier), k: int = Query(10, ge=1)) -> dict:
        doc = await _json_body(request)
        limit, k = int(cfg.upload.max_preset_bytes), min(k, int(cfg.similar.max_k))
        if isinstance(doc, dict) and "preset" in doc:
            z = store.space.z(_features("preset", doc["preset"], limit))
            return answer(store.nearest(client, preset=z, k=k), client)
        if isinstance(doc, dict) and "fg" in doc and "bg" in doc:
            query = store.space.pair(_features("FG", doc["fg"], limit), _features("BG", doc["bg"], limit))
            return answer(store.nearest(client, pair=query, k=k), client)
        raise HTTPException(422, 'the body must be {"preset": TEXT} or {"fg": TEXT, "bg": TEXT}')

    @premium.post("/api/uploads", status_code=201)
    async def upload(request: Request, client: str = Depends(tier)) -> dict:
        doc = await _json_body(request)
        try:
            record = await run_in_threadpool(uploader.accept, client, doc)
        except Rejected as exc:
            counters["uploads"].labels(str(exc.status)).inc()
            raise HTTPException(exc.status, exc.reason) from None
        counters["uploads"].labels("201").inc()
        return {**summary(record, client), "library_size": len(store.elite)}

    @premium.get("/api/templates/{tid}/download")
    def download(tid: str, client: str = Depends(tier)) -> Response:
        record = visible(tid, client)
        if record["fg"].get("file") is None:
            raise HTTPException(404, f"template {tid} has no .milk text here: {record.get('text_note')}")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("template.json", json.dumps(public(record), indent=2, sort_keys=True) + "\n")
            for side in ("fg", "bg"):
                z.writestr(f"{side}/{_safe(record[side]['name'])}.milk", (record["_dir"] / MILK_FILES[side]).read_bytes())
            if record.get("preview"):
                z.writestr(PREVIEW_FILE, (record["_dir"] / PREVIEW_FILE).read_bytes())
        headers = {"Content-Disposition": f'attachment; filename="aivj-template-{tid}.zip"'}
        return Response(buf.getvalue(), media_type="application/zip", headers=headers)

    return page_router, both, premium


def _safe(name: str) -> str:
    """A file name for the zip: no folders, no control characters."""
    cleaned = "".join(c if c.isprintable() and c not in '/\\:*?"<>|' else "_" for c in name).strip(". ")
    return cleaned[:120] or "preset"


async def _json_body(request: Request):
    body = await request.body()  # create_app's body limit refuses more than upload.max_body_bytes as it arrives
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(422, f"the body is not JSON ({type(exc).__name__})") from None


def market_settings(cfg, root: Path) -> ServiceSettings:
    """The market's tiers and body limit from conf/market, its key file in the store folder."""
    return ServiceSettings(
        name="market",
        data_dir=root,
        rate_limit_per_minute=int(cfg.premium_rate_limit_per_minute),
        free_rate_limit_per_minute=int(cfg.free_rate_limit_per_minute),
        max_body_bytes=int(cfg.upload.max_body_bytes),
    )


def create_market_app(cfg, store: Store, scorer, frame_root: Path, settings: ServiceSettings | None = None,
                      clock: Callable[[], float] = time.monotonic) -> FastAPI:  # fmt: skip
    settings = settings or market_settings(cfg, store.root)
    counters: dict = {}
    uploader = Uploader(store, scorer, cfg, frame_root)
    page, both, premium = market_routers(cfg, store, uploader, counters)
    app = create_app(settings, [premium], clock=clock, tier_routers=[both], open_routers=[page])
    counters["uploads"] = Counter("aivj_market_uploads", "Uploads by answer status", ["status"], registry=app.state.metrics)
    app.state.store, app.state.uploader = store, uploader
    return app
