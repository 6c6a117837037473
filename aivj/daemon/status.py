"""What ``aivj daemon status`` prints and the status page shows: state, champion, the last runs and their reports."""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from aivj.daemon.journal import POINTER, DaemonState, Journal
from aivj.daemon.service import lock_holder
from aivj.monitoring.rollback import rollback_router
from aivj.registry import Registry
from aivj.registry.store import RegistryError


def status(home: Path, registry_dir=None, last: int = 10) -> dict:
    state = DaemonState(home)
    pointer = home / POINTER
    current = pointer.read_text().strip() if pointer.is_file() else None
    in_step = Journal(home / "runs" / current).doc.get("in_step") if current else None
    try:
        champion = Registry(registry_dir).default_champion()
    except RegistryError as exc:
        champion = f"unreadable ({exc})"
    return {
        "running_pid": lock_holder(home),
        "current_run": current,
        "in_step": in_step,
        "champion": champion,
        "paused": state["paused"],
        "consecutive_failures": state["consecutive_failures"],
        "next_run_after": state["next_run_after"],
        "last_runs": state["history"][-last:],
        "set_aside": state["set_aside"] or [],  # corrupt state files moved aside, not yet alerted (journal.py)
    }


def run_report(home: Path, run: str) -> dict | None:
    path = home / "runs" / Path(run).name / "report.json"
    return json.loads(path.read_text()) if path.is_file() else None


def status_router(home: Path, registry_dir=None) -> APIRouter:
    router = APIRouter()

    @router.get("/status")
    def get_status() -> dict:
        return status(home, registry_dir)

    @router.get("/runs/{run}")
    def get_run(run: str) -> dict:
        report = run_report(home, run)
        if report is None:
            raise HTTPException(status_code=404, detail=f"no report for run {run!r}")
        return report

    @router.get("/", response_class=HTMLResponse)
    def page() -> str:
        s = status(home, registry_dir)
        rows = "".join(
            f"<tr><td>{html.escape(str(h['run']))}</td><td>{html.escape(h['decision'])}</td>"
            f"<td>{h.get('pairs_added', 0)}</td><td>{html.escape('; '.join(h.get('reasons', []))[:300])}</td></tr>"
            for h in reversed(s["last_runs"])
        )
        return (
            f"<html><head><title>aivj daemon</title></head><body><h1>aivj daemon</h1>"
            f"<p>champion: {html.escape(str(s['champion']))}; running: {s['running_pid']}; current run: {s['current_run']} "
            f"({s['in_step']}); paused: {html.escape(str(s['paused']))}; failures in a row: {s['consecutive_failures']}</p>"
            + "".join(f"<p>set aside: {html.escape(note)}</p>" for note in s["set_aside"])
            + f"<table border=1><tr><th>run</th><th>decision</th><th>pairs added</th><th>why</th></tr>{rows}</table></body></html>"
        )

    return router


def create_status_app(home: Path, registry_dir=None, settings=None):
    """The status page on the services' foundation, with the monitoring rollback webhook mounted."""
    from aivj.services.app import create_app
    from aivj.services.settings import ServiceSettings

    open_routers = [rollback_router(registry_dir=registry_dir)]
    return create_app(settings or ServiceSettings(name="daemon"), [status_router(home, registry_dir)], open_routers=open_routers)
