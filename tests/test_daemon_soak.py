"""Soak: the daemon on a 5-second schedule over a temporary aidata root; packs dropped in over time
(one with planted bad files, one that degrades the model), kill -9 twice mid-run, then the books."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aivj.contract.layout import pairs_dataset
from aivj.registry import Registry
from tests.conftest import ROOT
from tests.helpers.daemon_packs import elite_pack, planted_pack
from tests.helpers.loopback import Recorder
from tests.test_daemon import tiny_overrides

pytestmark = pytest.mark.slow
HANG_GUARD = 900  # seconds: only a hang fails here (speed is not asserted); each wait names what it waited for


def _env(tmp: Path) -> dict:
    return {**os.environ, "AIVJ_HOME": str(tmp / "home"), "AIVJ_REGISTRY": str(tmp / "home" / "registry"),
            "AIVJ_SHIPPED_DIR": "", "AIVJ_ROOT": str(ROOT), "AIVJ_SERVICE_REQUIRE_API_KEY": "false",
            # the gate is over in a second on a quiet machine: hold it so the second kill lands inside it
            "AIVJ_DAEMON_HOLD_STEPS": "gate=3"}  # fmt: skip


class Soak:
    def __init__(self, tmp: Path, webhook: str) -> None:
        self.tmp, self.home = tmp, tmp / "home" / "daemon"
        self.args = [*tiny_overrides(tmp / "aidata", tmp / "home" / "data"), "schedule.interval_seconds=5",
                     "schedule.settle_seconds=2", f"notify.webhook.url={webhook}", "train.replay_ratio=0.5"]  # fmt: skip
        self.proc, self.start_time, self.kills = None, time.monotonic(), 0

    def start(self) -> None:
        cmd = [sys.executable, "-m", "aivj.daemon.cli", "start", *(f"--set={o}" for o in self.args)]
        log = open(self.tmp / "daemon.log", "a")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(self.tmp), stdout=log, stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def in_step(self) -> str | None:
        pointer = self.home / "current_run"
        if not pointer.is_file():
            return None
        journal = self.home / "runs" / pointer.read_text().strip() / "journal.json"
        return json.loads(journal.read_text()).get("in_step") if journal.is_file() else None

    def history(self) -> list[dict]:
        path = self.home / "state.json"
        return json.loads(path.read_text()).get("history", []) if path.is_file() else []

    def settled(self, n_pairs: int) -> bool:
        """All ``n_pairs`` ingested and the run that brought the last of them judged."""
        history = self.history()
        return (sum(h["pairs_added"] for h in history) == n_pairs and self.in_step() is None
                and next(h for h in reversed(history) if h["pairs_added"])["decision"] in ("promoted", "rejected"))  # fmt: skip

    def wait(self, what: str, predicate) -> None:
        while not predicate():
            assert self.proc.poll() is None, f"daemon exited {self.proc.returncode} waiting for {what}: {self.log_tail()}"
            assert time.monotonic() - self.start_time < HANG_GUARD, (
                f"soak past {HANG_GUARD} s waiting for {what}: {self.history()}"
            )
            time.sleep(0.2)

    def log_tail(self) -> str:
        return (self.tmp / "daemon.log").read_text()[-2000:]


def _drop(tmp: Path, name: str, **kw) -> set:
    """Build the pack beside the root, then move it in whole (its files are fresh: the daemon lets them settle)."""
    good = planted_pack(tmp / "incoming", name, **kw)
    shutil.move(tmp / "incoming" / name, tmp / "aidata" / name)
    return good


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_soak_kill9_twice(tmp_path):
    rng, port = random.Random(16), _free_port()
    expected = planted_pack(tmp_path / "aidata", "packA", 160, seed=1) | elite_pack(tmp_path / "aidata", 30)
    with Recorder() as hook:
        soak = Soak(tmp_path, hook.url + "/hook")
        soak.args.append(f"status.port={port}")
        try:
            soak.start()
            soak.wait("run 1 to train", lambda: soak.in_step() == "train")
            time.sleep(rng.uniform(0.5, 3.0))
            soak.kill9()  # 1: at a random moment of the first training
            soak.start()
            soak.wait("run 1 decided", lambda: any(h["decision"] == "promoted" for h in soak.history()))
            expected |= _drop(tmp_path, "packB", n=100, seed=2, bad_files=5, bad_lines=3)
            soak.wait("packB decided", lambda: soak.settled(len(expected)))
            expected |= _drop(tmp_path, "packD", n=240, seed=3, invert=True)
            soak.wait("packD's run to gate", lambda: soak.in_step() == "gate")
            soak.kill9()  # 2: while judging the candidate trained on packD
            soak.start()
            soak.wait("packD decided", lambda: soak.settled(len(expected)))
            page = httpx.get(f"http://127.0.0.1:{port}/status", timeout=10).json()
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            subprocess.run(
                [sys.executable, "-m", "aivj.daemon.cli", "stop"], cwd=ROOT, env=_env(tmp_path), check=True, timeout=60
            )
            assert soak.proc.wait(timeout=60) == 0  # SIGTERM: a clean exit
        finally:
            if soak.proc.poll() is None:  # a failed wait must not leave a daemon behind
                soak.kill9()
        elapsed = time.monotonic() - soak.start_time
        events = hook.events()

    history = soak.history()
    keys = pairs_dataset(tmp_path / "home" / "data").to_table(columns=["pack", "pair"])
    found = list(zip(keys["pack"].to_pylist(), keys["pair"].to_pylist()))
    assert len(found) == len(set(found)) and set(found) == expected  # every good pair exactly once, no bad one
    assert sum(h["pairs_added"] for h in history) == len(expected)  # the runs' books reconcile after two kills
    decided = [h for h in history if h["decision"] in ("promoted", "rejected")]
    assert decided[0]["decision"] == "promoted" and decided[-1]["decision"] == "rejected", history
    reg = Registry(tmp_path / "home" / "registry", shipped=None)
    champion = reg.champion()
    assert champion and champion != decided[-1]["version"] and reg.verify() == []
    assert events.count("recovered") == 2 and "rejected" in events, events
    rejected = next(body for _, body in hook.posts if body["event"] == "rejected" and body["run"] == decided[-1]["run"])
    assert rejected["lines"], rejected  # the alert names its reasons
    assert page["champion"] == champion and page["last_runs"][-1]["run"] in [h["run"] for h in history]
    assert 'aivj_daemon_runs_total{decision="rejected"} 1.0' in metrics  # the restarted daemon judged packD
    assert f'aivj_daemon_champion_info{{version="{champion}"}} 1.0' in metrics
    print(f"soak: {len(history)} runs ({[h['decision'] for h in history]}), {soak.kills} kills survived, "
          f"{len(found)} pairs ingested of {len(expected)} expected, {elapsed:.0f} s")  # fmt: skip
