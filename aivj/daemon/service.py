"""The long-running daemon: an APScheduler interval job, one run at a time under a crash-proof lock,
resource guards, backoff after failures, and a heartbeat.

The lock is an ``flock`` on ``$AIVJ_HOME/daemon/daemon.lock`` (holding the daemon's pid): the kernel
drops it when the process dies, kill -9 included, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from aivj.daemon.config import registry_dir
from aivj.daemon.journal import DaemonState, daemon_home
from aivj.daemon.metrics import DaemonMetrics
from aivj.daemon.notify import Dispatcher, Message, notifiers_from
from aivj.daemon.runner import run_once

log = logging.getLogger("aivj.daemon")
LOCK = "daemon.lock"


class AlreadyRunning(RuntimeError):
    pass


@contextlib.contextmanager
def daemon_lock(home: Path):
    home.mkdir(parents=True, exist_ok=True)
    fh = open(home / LOCK, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise AlreadyRunning(f"{home / LOCK}: another daemon or run holds the lock (pid {lock_holder(home)})") from None
    fh.seek(0), fh.truncate(), fh.write(f"{os.getpid()}\n"), fh.flush()
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def lock_holder(home: Path) -> int | None:
    """The pid holding the lock, or None when nobody does."""
    path = home / LOCK
    if not path.exists():
        return None
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            text = fh.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def resource_problem(cfg, data_dir: Path) -> str | None:
    import psutil

    memory = psutil.virtual_memory().percent
    if memory > float(cfg.max_memory_percent):
        return f"memory {memory:.0f}% used > {cfg.max_memory_percent}%"
    probe = Path(data_dir)
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free / 1e9
    if free < float(cfg.min_free_disk_gb):
        return f"{free:.1f} GB free on {probe} < {cfg.min_free_disk_gb} GB"
    return None


class Daemon:
    def __init__(self, cfg, metrics: DaemonMetrics | None = None) -> None:
        self.cfg, self.home = cfg, daemon_home()
        self.data_dir, self.registry_dir = Path(str(cfg.data_dir)), registry_dir(cfg)
        self.metrics = metrics or DaemonMetrics()
        self.dispatcher = Dispatcher(notifiers_from(cfg.notify), cfg.notify.events, self.home / "outbox.jsonl")
        self.busy = threading.Lock()
        self.metrics.set_state("idle")

    def heartbeat(self) -> None:
        self.metrics.heartbeat.set(time.time())

    def tick(self, force_full: bool = False, clock_hm=None) -> dict | None:
        """One scheduled run, unless paused (resources), backing off (failures) or busy. Returns its report."""
        self.heartbeat()
        state = DaemonState(self.home)
        if state["next_run_after"] and time.time() < state["next_run_after"] and not force_full:
            self.metrics.set_state("backoff")
            return None
        problem = resource_problem(self.cfg.resources, self.data_dir)
        if problem:
            if state["paused"] != problem:  # alert once per new reason, not every tick
                self.dispatcher.send(Message("paused", f"paused: {problem}", [f"data: {self.data_dir}"]))
            state.update(paused=problem)
            self.metrics.set_state("paused")
            return None
        state.update(paused=None)
        if not self.busy.acquire(blocking=False):
            return None
        try:
            report = run_once(
                self.cfg, self.home, self.data_dir, self.registry_dir, self.metrics, self.dispatcher, force_full, clock_hm
            )
        finally:
            self.busy.release()
        self._backoff(DaemonState(self.home))
        return report

    def _backoff(self, state: DaemonState) -> None:
        n, f = state["consecutive_failures"], self.cfg.failures
        if not n:
            state.update(next_run_after=None)
            return
        wait = min(float(f.backoff_seconds) * 2 ** (n - 1), float(f.backoff_max_seconds))
        state.update(next_run_after=time.time() + wait)
        self.metrics.set_state("backoff")

    def serve(self, stop: threading.Event | None = None) -> None:
        """Run the schedule until ``stop`` is set (or SIGTERM/SIGINT in the CLI)."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        stop = stop or threading.Event()
        interval = max(float(self.cfg.schedule.interval_seconds), 1.0)
        scheduler = BackgroundScheduler()
        scheduler.add_job(self.tick, IntervalTrigger(seconds=interval), id="run", max_instances=1, coalesce=True,
                          next_run_time=_now_local(), misfire_grace_time=None)  # fmt: skip
        scheduler.add_job(
            self.heartbeat, IntervalTrigger(seconds=min(interval, 15.0)), id="heartbeat", next_run_time=_now_local()
        )
        scheduler.start()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            scheduler.shutdown(wait=False)


def _now_local():
    from datetime import datetime

    return datetime.now().astimezone()
