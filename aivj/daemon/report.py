"""A run's progress report (``runs/<id>/report.json`` and ``report.md``): what came in, what trained,
the figures against the champion, the decision and why."""

from __future__ import annotations

import time
from pathlib import Path

from aivj.contract.atomic import write_json_atomic, write_text_atomic
from aivj.daemon.journal import Journal


def build_report(journal: Journal, decision: str, reasons: list[str], events: list[dict]) -> dict:
    steps = journal.doc["steps"]
    scan, ingest, sel = steps.get("scan", {}), steps.get("ingest", {}), steps.get("select", {})
    train, gate, promote = steps.get("train", {}), steps.get("gate", {}), steps.get("promote", {})
    return {
        "run": journal.doc["run"],
        "started": journal.doc.get("started"),
        "finished": round(time.time(), 3),
        "resumed": journal.doc.get("resumed", 0),
        "decision": decision,
        "reasons": reasons,
        "came_in": {
            "new_packs": [p["path"] for p in scan.get("new", [])],
            "waiting": scan.get("waiting", []),
            "blocked": scan.get("blocked", []),
            **{
                k: ingest.get(k)
                for k in ("rows_in", "rows_written", "rows_quarantined", "quarantine_reasons", "pairs_added", "pairs_after")
            },
        },
        "trained": {
            "why": sel.get("why"),
            "full": sel.get("full"),
            "new_pairs": sel.get("new_pairs"),
            "stages": train.get("stages", []),
        },
        "figures": {"candidate": gate.get("candidate"), "champion": gate.get("champion"), "drift_kl": gate.get("drift_kl")},
        "champion_before": sel.get("champion"),
        "rolled_back": sel.get("rolled_back"),
        "version": promote.get("version"),
        "champion_after": promote.get("champion", sel.get("champion")),
        "events": events,
    }


def _table(report: dict) -> list[str]:
    cand, champ = report["figures"]["candidate"] or {}, report["figures"]["champion"] or {}
    if not cand:
        return []
    lines = ["", "| figure | candidate | champion |", "| --- | --- | --- |"]
    for key in sorted(cand):
        fmt = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
        lines.append(f"| {key} | {fmt(cand.get(key))} | {fmt(champ.get(key))} |")
    return lines


def write_report(run_dir: Path, report: dict) -> None:
    came, trained = report["came_in"], report["trained"]
    lines = [
        f"# Daemon run {report['run']}: {report['decision']}",
        "",
        *(f"- {r}" for r in report["reasons"]),
        "",
        f"Came in: {len(came['new_packs'])} new pack(s), {came.get('pairs_added') or 0} pairs added "
        f"({came.get('rows_quarantined') or 0} rows quarantined), {came.get('pairs_after') or 0} pairs in all; "
        f"waiting for {len(came['waiting'])} pack(s) still being written.",
        f"Trained: {trained['why']}"
        + "".join(f"; {s['stage']} {s['view']['train_pairs']} pairs in {s['seconds']} s" for s in trained["stages"]),
        f"Champion: {report['champion_before']} -> {report['champion_after']} (version registered: {report['version']})",
        *_table(report),
    ]
    write_json_atomic(report, Path(run_dir) / "report.json")
    write_text_atomic(Path(run_dir) / "report.md", "\n".join(lines) + "\n")
