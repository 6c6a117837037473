"""Crash-safe bookkeeping: the per-run journal, the current-run pointer and the daemon's state file.

Every write is atomic (aivj.contract.atomic). A step counts as done only once the journal on disk
says so; a daemon killed at any moment (kill -9) finds the pointer ``current_run`` on its next start
and resumes that run at its first unfinished step, which is redone from its beginning. Every step is
written to be redone: ingest rebuilds the dataset as a set of (pack, pair) keys, training restarts
its stage (from the stage's ``last.ckpt`` when there is one), promotion reuses a version already
registered from the same run folder, and counts come from figures the journal recorded before the step.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from aivj.contract.atomic import write_json_atomic, write_text_atomic
from aivj.home import state_dir

POINTER, STATE = "current_run", "state.json"


def daemon_home() -> Path:
    return state_dir("daemon")


def _read(path: Path, default):
    try:
        return json.loads(path.read_text()) if path.is_file() else default
    except (OSError, ValueError):
        return default


class Journal:
    def __init__(self, run_dir: Path) -> None:
        self.dir = Path(run_dir)
        self.path = self.dir / "journal.json"
        self.doc = _read(self.path, None) or {"run": self.dir.name, "started": time.time(), "steps": {}, "resumed": 0}

    def done(self, step: str) -> dict | None:
        return self.doc["steps"].get(step)

    def begin(self, step: str) -> None:
        self.doc["in_step"] = step
        self._save()

    def finish(self, step: str, data: dict) -> dict:
        self.doc["steps"][step] = {**data, "finished_at": round(time.time(), 3)}
        self.doc["in_step"] = None
        self._save()
        return self.doc["steps"][step]

    def note(self, **fields) -> None:
        self.doc.update(fields)
        self._save()

    def _save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.doc, self.path)


def open_run(home: Path) -> tuple[Journal, bool]:
    """(the run to work on, whether it resumes an interrupted one)."""
    pointer = home / POINTER
    run_id = pointer.read_text().strip() if pointer.is_file() else ""
    if run_id and (home / "runs" / run_id).is_dir():
        journal = Journal(home / "runs" / run_id)
        journal.note(resumed=journal.doc.get("resumed", 0) + 1)
        return journal, True
    run_id = time.strftime("r%Y%m%d-%H%M%S", time.localtime())
    while (home / "runs" / run_id).exists():  # two runs within a second (tests, run-once after a run)
        run_id = run_id.split(".")[0] + f".{time.time_ns() % 10**6:06d}"
    journal = Journal(home / "runs" / run_id)
    journal.note(resumed=0)  # the folder exists before the pointer names it
    write_text_atomic(pointer, run_id + "\n", durable=True)
    return journal, False


def close_run(home: Path) -> None:
    (home / POINTER).unlink(missing_ok=True)


class DaemonState:
    """``state.json``: what survives between runs (failures, history of decisions, the last full retrain)."""

    def __init__(self, home: Path) -> None:
        self.path = home / STATE
        self.doc = _read(self.path, {}) or {}
        self.doc.setdefault("consecutive_failures", 0)
        self.doc.setdefault("history", [])

    def __getitem__(self, key):
        return self.doc.get(key)

    def update(self, **fields) -> None:
        self.doc.update(fields)
        write_json_atomic(self.doc, self.path)

    def add_run(self, entry: dict, keep: int) -> None:
        history = [h for h in self.doc["history"] if h.get("run") != entry["run"]] + [entry]  # a redone report step
        failures = self.doc["consecutive_failures"]
        if self.doc.get("last_run") != entry["run"]:  # counted once, even when the report step is redone
            failures = failures + 1 if entry["decision"] == "failed" else 0
        self.update(
            history=history[-max(keep, 1) :],
            consecutive_failures=failures,
            last_run=entry["run"],
            last_decision=entry["decision"],
            last_run_time=entry["time"],
        )


def prune_runs(home: Path, keep: int, current: str | None = None) -> list[str]:
    runs = sorted(p for p in (home / "runs").iterdir() if p.is_dir()) if (home / "runs").is_dir() else []
    old = [p for p in runs if p.name != current][: max(len(runs) - keep, 0)]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return [p.name for p in old]
