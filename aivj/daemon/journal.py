"""Crash-safe bookkeeping: the per-run journal, the current-run pointer and the daemon's state file.

Every write is atomic (aivj.contract.atomic). A step counts as done only once the journal on disk
says so; a daemon killed at any moment (kill -9) finds the pointer ``current_run`` on its next start
and resumes that run at its first unfinished step, which is redone from its beginning. Every step is
written to be redone: ingest rebuilds the dataset as a set of (pack, pair) keys, training restarts
its stage (from the stage's ``last.ckpt`` when there is one), promotion reuses a version already
registered from the same run folder, and counts come from figures the journal recorded before the step.

A ``journal.json`` or ``state.json`` that does not parse (a disk error, a hand edit: the writes
themselves are atomic) is moved aside as ``<name>.corrupt-<time>`` (kept for a look, never deleted),
logged as one line naming the file, and the daemon goes on from a clean one: every step can be redone,
and the next run sends a ``recovered`` alert naming it (the note waits in the fresh file's
``set_aside`` until then). An unreadable file (permissions) is still an error: nothing is moved.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from aivj.contract.atomic import write_json_atomic, write_text_atomic
from aivj.home import state_dir

POINTER, STATE = "current_run", "state.json"
log = logging.getLogger("aivj.daemon")


def _held_steps() -> dict[str, float]:
    """Fault injection for crash tests: ``AIVJ_DAEMON_HOLD_STEPS="gate=3"`` pauses that many seconds once
    a step has begun, so a kill -9 lands inside a step that is over in a blink on a quiet machine."""
    spec = os.environ.get("AIVJ_DAEMON_HOLD_STEPS", "")
    return {name: float(seconds) for name, _, seconds in (p.partition("=") for p in spec.split(",")) if seconds}


def daemon_home() -> Path:
    return state_dir("daemon")


def _read(path: Path, default) -> tuple[dict, list[str]]:
    """(the document, or ``default`` when absent or corrupt; the note about a corrupt one moved aside)."""
    if not path.is_file():
        return default, []
    raw = path.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict):
            raise ValueError(f"a JSON {type(doc).__name__}, not an object")
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError too
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}")
        os.replace(path, aside)
        note = f"{path}: corrupt ({str(exc).splitlines()[0][:120]}); moved aside to {aside.name}, going on from a clean one"
        log.error(note)
        return default, [note]
    return doc, []


class Journal:
    def __init__(self, run_dir: Path) -> None:
        self.dir = Path(run_dir)
        self.path = self.dir / "journal.json"
        doc, set_aside = _read(self.path, None)
        self.doc = doc or {"run": self.dir.name, "started": time.time(), "steps": {}, "resumed": 0}
        if set_aside:
            self.doc["set_aside"] = set_aside
            self._save()

    def done(self, step: str) -> dict | None:
        return self.doc["steps"].get(step)

    def begin(self, step: str) -> None:
        self.doc["in_step"] = step
        self._save()
        if hold := _held_steps().get(step):
            time.sleep(hold)

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
        self.doc, set_aside = _read(self.path, {})
        self.doc.setdefault("consecutive_failures", 0)
        self.doc.setdefault("history", [])
        if set_aside:
            self.update(set_aside=self.doc.get("set_aside", []) + set_aside)

    def take_set_aside(self) -> list[str]:
        """The notes about corrupt files moved aside, once (the caller alerts; saved with its next update)."""
        return self.doc.pop("set_aside", None) or []

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
