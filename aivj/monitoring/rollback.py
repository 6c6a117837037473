"""Alertmanager's webhook that rolls the registry's champion back: ``POST /alerts/rollback``.

Authenticated by a shared bearer token (``Authorization: Bearer $AIVJ_ROLLBACK_TOKEN``; Alertmanager's
``http_config.authorization`` sends it); without a configured token every call is refused. It acts on
firing alerts labelled ``action="rollback"`` whose ``version`` label (the rules join
``aivj_champion_info``) names the current champion: a notification repeated after the rollback, or
one about a version no longer serving, changes nothing. The champion goes back to the newest earlier
sound champion that no alert rolled away from (``Registry.previous_good``), switched only if the
champion is still the one the alert named (compare-and-set); the registry's champion history records
the alert as the reason, and every call's decision is appended to the webhook's log.
"""

from __future__ import annotations

import hmac
import json
import os
import time
import weakref
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel

from aivj.contract import metric_names as names
from aivj.home import state_dir
from aivj.registry.store import Registry, RegistryError

TOKEN_ENV = "AIVJ_ROLLBACK_TOKEN"
PATH = "/alerts/rollback"
REASON_PREFIX = "rollback by alert: "
_COUNTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
BEARER = HTTPBearer(auto_error=False)  # module level: the route's string annotations resolve here


class Alert(BaseModel):
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: str = ""  # noqa: N815 - Alertmanager's field names


class Notification(BaseModel):
    """Alertmanager's webhook payload (version 4); fields this webhook does not read are ignored."""

    status: str = ""
    receiver: str = ""
    alerts: list[Alert]


def default_log() -> Path:
    return state_dir("services") / "monitoring" / "rollback_webhook.jsonl"


def previous_good(reg: Registry) -> str:
    """The registry's rollback target, skipping every version an alert rolled away from."""
    return reg.previous_good(avoid_rolled_away_by=REASON_PREFIX)


def _why(alerts: list[Alert]) -> str:
    parts = []
    for a in alerts:
        summary = a.annotations.get("summary", "")
        parts.append(a.labels.get("alertname", "unnamed alert") + (f" ({summary})" if summary else ""))
    return "; ".join(dict.fromkeys(parts))


def _counter(metrics: CollectorRegistry | None) -> Counter | None:
    """The rollback counter on the mounting app's registry (``create_app``'s ``state.metrics``), made once."""
    if metrics is None:
        return None
    if metrics not in _COUNTERS:
        _COUNTERS[metrics] = Counter(names.ROLLBACKS, "Champion rollbacks made by the webhook", ["alertname"], registry=metrics)
    return _COUNTERS[metrics]


def rollback_router(registry_dir=None, token: str | None = None, log_path: Path | None = None) -> APIRouter:
    """``token``: the shared secret (default ``$AIVJ_ROLLBACK_TOKEN``); rollbacks are counted on the app's registry."""
    token = token if token is not None else os.environ.get(TOKEN_ENV, "")
    log_path = Path(log_path) if log_path else default_log()
    router = APIRouter()

    def authorised(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        if not token:
            raise HTTPException(503, f"rollback webhook disabled: no {TOKEN_ENV} configured")
        if creds is None or not hmac.compare_digest(creds.credentials.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    def record(decision: dict) -> dict:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as fh:  # an append-only log, one line per call
            fh.write(json.dumps({"time": round(time.time(), 3), **decision}, sort_keys=True) + "\n")
        return decision

    @router.post(PATH, dependencies=[Depends(authorised)])
    def rollback(note: Notification, request: Request) -> dict:
        firing = [a for a in note.alerts if a.status == "firing" and a.labels.get("action") == "rollback"]
        if not firing:
            return record({"rolled_back": False, "reason": "no firing alert labelled action=rollback"})
        # Read, decide, then switch only if the champion is still the one read (compare-and-set under the
        # registry's lock): two deliveries at once, or a promotion landing meanwhile, never roll back twice.
        reg = Registry(registry_dir)
        try:
            current = reg.champion()
            about = [a for a in firing if a.labels.get("version") == current]
            if current is None or not about:
                named = sorted({a.labels.get("version", "(no version label)") for a in firing})
                return record(
                    {
                        "rolled_back": False,
                        "reason": f"alerts name {', '.join(named)}; champion is {current}",
                        "alerts": _why(firing),
                    }
                )
            target = previous_good(reg)
            why = _why(about)
            reg.set_champion(target, REASON_PREFIX + why, expected=current)
        except RegistryError as exc:
            return record({"rolled_back": False, "reason": str(exc), "alerts": _why(firing)})
        counter = _counter(getattr(request.app.state, "metrics", None))
        for name in {a.labels.get("alertname", "unnamed alert") for a in about} if counter else ():
            counter.labels(name).inc()
        return record({"rolled_back": True, "from": current, "to": target, "reason": REASON_PREFIX + why})

    return router
