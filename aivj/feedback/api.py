"""The feedback service's routes, on ``aivj.services.create_app`` (API key, rate limit, /health, /metrics).

    POST /events                               a batch of shown/dwell/skip/rate events -> stored, duplicates
    POST /experiments/{experiment}/exposures   a client's first sight of an experiment -> its arm (logged once)

An event naming an experiment must name the arm ``assign`` gives its client: an event claiming another
arm would bias the comparison, so it is refused (422) like any other invalid event.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, HTTPException

from aivj.feedback.assign import Experiment, load_experiments
from aivj.feedback.events import BatchResult, EventBatch, Exposure, ExposureIn
from aivj.feedback.store import ConflictError, FeedbackStore, default_url
from aivj.services.app import create_app, current_client
from aivj.services.settings import ServiceSettings

MAX_BODY_BYTES = 1 << 20  # 500 events of ~500 bytes fit with room; more is refused as it arrives (create_app)
BODY_ERRORS = {400: {"description": "body is not JSON"}}


def feedback_router(store: FeedbackStore, experiments: dict[str, Experiment]) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/events",
        response_model=BatchResult,
        responses={
            409: {"description": "an event id is already stored with other content; nothing was written"},
            **BODY_ERRORS,
        },
    )
    def post_events(batch: EventBatch, source: str = Depends(current_client)) -> BatchResult:
        wrong = []
        for ev in batch.events:
            exp = experiments.get(ev.experiment) if ev.experiment else None
            if ev.experiment and exp is None:
                wrong.append(f"{ev.event_id}: unknown experiment {ev.experiment!r}")
            elif exp is not None and exp.assign(ev.client_id) != ev.variant:
                wrong.append(f"{ev.event_id}: client {ev.client_id} is in arm {exp.assign(ev.client_id)!r}, not {ev.variant!r}")
        if wrong:
            raise HTTPException(status_code=422, detail=wrong[:20])
        try:
            stored, duplicates = store.add_events(list(batch.events), source)
        except ConflictError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        return BatchResult(received=len(batch.events), stored=stored, duplicates=duplicates)

    @router.post(
        "/experiments/{experiment}/exposures",
        response_model=Exposure,
        responses={404: {"description": "no such experiment"}, **BODY_ERRORS},
    )
    def post_exposure(experiment: str, body: ExposureIn, source: str = Depends(current_client)) -> Exposure:
        exp = experiments.get(experiment)
        if exp is None:
            raise HTTPException(status_code=404, detail=f"no experiment {experiment!r} (known: {sorted(experiments)})")
        row = store.log_exposure(experiment, body.client_id, exp.assign(body.client_id), body.time, source)
        return Exposure(**{k: row[k] for k in Exposure.model_fields})

    return router


def create_feedback_app(
    settings: ServiceSettings | None = None,
    store: FeedbackStore | str | None = None,
    experiments: dict[str, Experiment] | None = None,
    **create_kw,
) -> FastAPI:
    """The feedback API; ``store`` a FeedbackStore or a SQLAlchemy URL (default: SQLite in the service's home)."""
    settings = settings or ServiceSettings(name="feedback", max_body_bytes=MAX_BODY_BYTES)
    if not isinstance(store, FeedbackStore):
        store = FeedbackStore(store or default_url(settings.home()))
    experiments = load_experiments() if experiments is None else experiments
    app = create_app(settings, [feedback_router(store, experiments)], **create_kw)
    app.state.store, app.state.experiments = store, experiments
    return app
