"""The scoring service's routes, on ``aivj.services.create_app`` (API key, rate limit, /health, /metrics).

``POST /score``: presets (64 static features, or .milk text) and pairs of their indices -> scores.
``GET /packs/{pack}/top?k=``: the k best pairs of a pack folder under ``packs_root``.
``GET /champion``: the version serving and whether its recorded figures pass the static path.
Both scoring routes run the static path (no renders in a request), the path export falls back to;
the answer names the version and that path's recorded figure. Model time goes to the latency
histogram by endpoint; the champion and its gate figures to the gauges of ``aivj.monitoring.gauges``.
"""

from __future__ import annotations

import math
import re
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, Field

from aivj.contract import metric_names as names
from aivj.contract.schema import FEATURE_DIM
from aivj.milk.features import extract_features
from aivj.milk.parser import parse_milk
from aivj.monitoring.gauges import ChampionGauges
from aivj.services.app import create_app
from aivj.services.settings import ServiceSettings
from aivj.serving.champion import ChampionHolder, Loaded

MAX_PAIRS = 100_000  # one request; a whole pack goes through /packs/{pack}/top
PACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")
PACK_CACHE = 16  # packs kept scored per process


class PresetIn(BaseModel):
    features: list[float] | None = Field(default=None, description=f"{FEATURE_DIM} static features (aivj.milk)")
    milk: str | None = Field(default=None, description=".milk text, parsed and featurised here")


class ScoreRequest(BaseModel):
    presets: list[PresetIn]
    pairs: list[tuple[int, int]] = Field(description="(fg index, bg index) into presets")


def _features(presets: list[PresetIn]) -> np.ndarray:
    rows = []
    for i, p in enumerate(presets):
        if (p.features is None) == (p.milk is None):
            raise HTTPException(422, f"presets[{i}]: give exactly one of features, milk")
        if p.milk is not None:
            try:
                rows.append(extract_features(parse_milk(p.milk, f"presets[{i}]")))
            except ValueError as exc:
                raise HTTPException(422, str(exc).splitlines()[0]) from None
            continue
        if len(p.features) != FEATURE_DIM or not all(math.isfinite(x) for x in p.features):
            raise HTTPException(422, f"presets[{i}].features: need {FEATURE_DIM} finite numbers, got {len(p.features)}")
        rows.append(np.asarray(p.features, np.float32))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, FEATURE_DIM), np.float32)


class PackCache:
    """Scored packs by (folder, version, manifest mtime): a new champion or manifest rescores.

    FastAPI runs these routes on a thread pool: the dict is guarded, and one thread scores a pack
    while the others asking for it wait for that answer instead of scoring it again.
    """

    def __init__(self) -> None:
        self.entries: dict[tuple, object] = {}
        self.lock = threading.Lock()
        self.scoring: dict[tuple, threading.Lock] = {}  # one lock per pack being scored

    def scores(self, pack_dir: Path, loaded: Loaded):
        manifests = sorted(pack_dir.glob("*manifest*.json*"))
        key = (str(pack_dir), loaded.version, tuple((m.name, m.stat().st_mtime_ns) for m in manifests))
        with self.lock:
            if key in self.entries:
                return self.entries[key]
            gate = self.scoring.setdefault(key, threading.Lock())
        with gate:
            with self.lock:
                if key in self.entries:  # scored while this thread waited
                    return self.entries[key]
            try:
                result = loaded.scorer.score_pack(pack_dir)
                with self.lock:
                    self.entries[key] = result
                    while len(self.entries) > PACK_CACHE:
                        self.entries.pop(next(iter(self.entries)))
            finally:
                with self.lock:
                    self.scoring.pop(key, None)
        return result


def _static_path(loaded: Loaded) -> dict:
    ok, line = loaded.scorer.paths["static"]
    return {"passes": ok, "figure": line}


def scoring_router(packs_root: Path | None) -> APIRouter:
    """Routes reading the app's ``state.holder`` (ChampionHolder) and ``state.latency`` (Histogram)."""
    router, cache = APIRouter(), PackCache()

    @router.post("/score")
    def score(body: ScoreRequest, request: Request) -> dict:
        if len(body.pairs) > MAX_PAIRS:
            raise HTTPException(413, f"{len(body.pairs)} pairs in one request; at most {MAX_PAIRS}")
        n = len(body.presets)
        bad = next((i for i, (f, b) in enumerate(body.pairs) if not (0 <= f < n and 0 <= b < n)), None)
        if bad is not None:
            raise HTTPException(422, f"pairs[{bad}] = {list(body.pairs[bad])}: indices must lie in 0..{n - 1}")
        loaded = request.app.state.holder.get()
        started = time.perf_counter()
        static = _features(body.presets)
        scores = loaded.scorer.score_presets(static, [f for f, _ in body.pairs], [b for _, b in body.pairs])
        request.app.state.latency.labels("score").observe(time.perf_counter() - started)
        return {"version": loaded.version, "path": "static", "static_path": _static_path(loaded), "scores": scores.tolist()}

    @router.get("/packs/{pack}/top")
    def top(pack: str, request: Request, k: int = Query(10, ge=1, le=10_000)) -> dict:
        if packs_root is None:
            raise HTTPException(404, "this service has no packs folder (aivj serve --packs DIR)")
        folder = packs_root / pack
        if not PACK_NAME.fullmatch(pack) or pack in (".", "..") or not folder.is_dir():
            raise HTTPException(404, f"{pack}: no such pack folder under {packs_root}")
        loaded = request.app.state.holder.get()
        started = time.perf_counter()
        try:
            scored = cache.scores(folder, loaded)
        except ValueError as exc:  # no readable manifest: the reader names the file
            raise HTTPException(422, str(exc).splitlines()[0]) from None
        order = np.argsort(-scored.scores, kind="stable")[:k]
        request.app.state.latency.labels("top_k").observe(time.perf_counter() - started)
        return {
            "version": loaded.version,
            "pack": scored.pack,
            "path": "static",
            "static_path": _static_path(loaded),
            "pairs": {"scored": len(scored.pair_ids), "set_aside": len(scored.set_aside), "missing_presets": scored.missing},
            "top": [{"pair": scored.pair_ids[i], "score": float(scored.scores[i])} for i in order],
        }

    @router.get("/champion")
    def champion(request: Request) -> dict:
        loaded = request.app.state.holder.get()
        return {"version": loaded.version, "loaded_at": loaded.loaded_at, "static_path": _static_path(loaded)}

    return router


def create_scoring_app(
    settings: ServiceSettings | None = None,
    registry_dir=None,
    packs_root: Path | None = None,
    poll_seconds: float | None = 2.0,
    open_routers=(),
):
    """The app with its champion loaded; ``poll_seconds`` None: no watcher (call ``app.state.holder.refresh()``)."""
    settings = settings or ServiceSettings(name="scoring")
    app = create_app(settings, [scoring_router(Path(packs_root) if packs_root else None)], open_routers=open_routers)
    registry = app.state.metrics
    app.state.latency = Histogram(
        names.INFERENCE_LATENCY, "Model time of a scoring request", ["endpoint"], buckets=names.LATENCY_BUCKETS, registry=registry
    )
    gauges = ChampionGauges(registry)
    failures = Counter("aivj_champion_load_failures", "Champion versions that did not load", registry=registry)
    holder = ChampionHolder(
        registry_dir,
        on_swap=lambda loaded: gauges.publish(loaded.version, loaded.scorer.metrics),
        on_failure=lambda version, why: failures.inc(),
    )
    holder.refresh()  # a service without a champion does not start
    app.state.holder = holder

    if poll_seconds:

        @asynccontextmanager
        async def lifespan(_app):
            holder.start(poll_seconds)
            try:
                yield
            finally:
                holder.stop()

        app.router.lifespan_context = lifespan
    return app
