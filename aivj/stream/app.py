"""``aivj stream work --serve``: the worker's HTTP face on the services' foundation (served by aivj.services.serve).

``/metrics`` (open) carries the stream metrics on the app's own registry; ``GET /topk/{pack}?k=N`` (behind
the API key) answers what the web app would otherwise read from Redis itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from aivj.services.app import create_app
from aivj.services.settings import ServiceSettings
from aivj.stream import reader
from aivj.stream.keys import Keys
from aivj.stream.metrics import StreamMetrics


def stream_app(r, keys: Keys, settings: ServiceSettings | None = None):
    """(app, metrics): the metrics live on the app's registry, so /metrics shows what the worker counts."""
    router = APIRouter()

    @router.get("/topk/{pack}")
    def topk(pack: str, k: int = Query(10, ge=1, le=1000)) -> dict:
        ranked = reader.topk(r, keys, pack, k)
        return {"pack": pack, "pairs": [{**x.details, "pair": x.pair, "weight": x.weight} for x in ranked]}

    app = create_app(settings or ServiceSettings(name="stream"), routers=[router])
    return app, StreamMetrics.create(app.state.metrics)
