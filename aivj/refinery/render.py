"""Render many presets once each into the frame cache: one worker process per core, a per-preset timeout.

A preset that crashes its worker, hangs past the timeout, fails to load or renders black is recorded
in the cache's status log with a reason, the worker is restarted when needed and the run goes on.

Job paths are made absolute here (workers run with the repository as their working directory) and a
re-run retries every ``load_error``: whether a file can be read depends on its path and the disk, not
on the content hash the cache is keyed by. Failures written with a relative path (an older bug that
recorded unreadable presets as ``black``) are retried too; ``retry`` adds more statuses (crash, timeout).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from aivj.refinery.cache import FrameCache
from aivj.refinery.native import REPO_ROOT, build_shim
from aivj.refinery.settings import RenderSettings


@dataclass(frozen=True)
class Job:
    id: str  # content hash
    path: str  # .milk file on disk


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} presets/s" if speed else "- presets/s", style="cyan")


class _Worker:
    def __init__(self, settings: RenderSettings, cache: FrameCache, shim: Path, slot: int):
        env = dict(os.environ, LD_PRELOAD=str(shim), AIVJ_SHIM=str(shim), LP_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
        log_dir = cache.dir / "workers"
        log_dir.mkdir(exist_ok=True)
        self.log = open(log_dir / f"worker-{slot}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aivj.refinery.worker", settings.to_json(), str(cache.dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            cwd=str(REPO_ROOT),
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.job: Job | None = None
        self.deadline = 0.0
        self.ready = False

    def send(self, job: Job, timeout: float) -> None:
        self.job, self.deadline = job, time.monotonic() + timeout
        self.proc.stdin.write(json.dumps({"id": job.id, "path": job.path}) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, 9)  # its own session: kills only this worker
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.kill()
        self.log.close()


def precheck(path: str) -> str:
    """Empty string when ``path`` is a readable preset, else the reason (the parser's one-line error)."""
    from aivj.milk.parser import parse_milk

    try:
        parse_milk(Path(path).read_bytes(), path)
    except OSError as exc:
        return f"{path}: cannot read ({exc.strerror or exc})"
    except ValueError as exc:
        return str(exc)
    return ""


ALWAYS_RETRIED = ("load_error",)


def settled(rec: dict, retry: tuple[str, ...] = ()) -> bool:
    """Whether a status record is a result a re-run may skip."""
    if rec.get("status") in ALWAYS_RETRIED or rec.get("status") in retry:
        return False
    # A failure recorded with a relative path was written by the cwd bug: maybe a false "black".
    return rec.get("status") == "ok" or os.path.isabs(rec.get("path", "/"))


def absolute(jobs: list[Job]) -> list[Job]:
    return [Job(j.id, os.path.abspath(j.path)) for j in jobs]


def render_presets(
    jobs: list[Job],
    settings: RenderSettings,
    cache: FrameCache | None = None,
    workers: int | None = None,
    timeout: float = 30.0,
    startup_timeout: float = 60.0,
    progress: bool = True,
    retry: tuple[str, ...] = (),
    ray: str | None = None,
) -> dict[str, dict]:
    """Render every job without a settled status; returns {id: status record} for all jobs.

    ``ray``: ``auto`` or a cluster address renders on Ray actors (``ray_pool.py``) instead of local workers."""
    if workers is not None and workers < 1:
        raise ValueError(f"--workers {workers}: need at least 1 worker process")
    if timeout <= 0:
        raise ValueError(f"--timeout {timeout}: must be more than 0 seconds")
    jobs = absolute(jobs)
    cache = cache or FrameCache(settings)
    shim = build_shim()
    history = cache.statuses()
    done = {k: v for k, v in history.items() if settled(v, retry)}
    todo = []
    for j in {j.id: j for j in jobs if j.id not in done}.values():
        problem = precheck(j.path)
        if problem:  # projectM would silently render an unreadable file as black: say why instead
            rec = {"id": j.id, "path": j.path, "status": "load_error", "reason": problem, "seconds": 0.0}
            old = history.get(j.id, {})
            if (old.get("status"), old.get("reason")) != ("load_error", problem):  # the log grows only on news
                cache.record(rec)
            done[j.id] = rec
        else:
            todo.append(j)
    cols = [
        TextColumn("render (ray)" if ray else "render"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    ]
    if ray and todo:  # everything settled already: no cluster to join
        from aivj.refinery.ray_pool import render_on_ray

        bar = Progress(*cols, disable=not progress, transient=False)
        done.update(render_on_ray(todo, settings, cache, shim, ray, workers, timeout, startup_timeout, bar))
        return {j.id: done[j.id] for j in jobs if j.id in done}
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    sel = selectors.DefaultSelector()
    pool: list[_Worker] = []
    queue = list(reversed(todo))

    def spawn(slot: int) -> _Worker:
        w = _Worker(settings, cache, shim, slot)
        w.deadline = time.monotonic() + startup_timeout
        sel.register(w.proc.stdout, selectors.EVENT_READ, (slot, w))
        return w

    def finish(w: _Worker, rec: dict) -> None:
        rec.setdefault("path", w.job.path)
        cache.record(rec)
        done[rec["id"]] = rec
        w.job = None
        bar.advance(task)

    def replace(slot: int, w: _Worker) -> _Worker:
        sel.unregister(w.proc.stdout)
        w.kill()
        pool[slot] = spawn(slot)
        return pool[slot]

    with Progress(*cols, disable=not progress, transient=False) as bar:
        task = bar.add_task("render", total=len(todo))
        pool = [spawn(i) for i in range(workers if todo else 0)]
        while queue or any(w.job for w in pool):
            for w in pool:
                if w.ready and w.job is None and queue:
                    w.send(queue.pop(), timeout)
            events = sel.select(timeout=0.5)
            for key, _ in events:
                slot, w = key.data
                line = w.proc.stdout.readline()
                if not line:  # worker died
                    if w.job is not None:
                        code = w.proc.poll()
                        finish(
                            w, {"id": w.job.id, "status": "crash", "reason": f"worker exited with code {code} while rendering"}
                        )
                    elif not w.ready:
                        raise RuntimeError(f"render worker failed to start; see {cache.dir / 'workers'}")
                    replace(slot, w)
                    continue
                msg = json.loads(line)
                if "fatal" in msg:
                    raise RuntimeError(f"render worker: {msg['fatal']}")
                if msg.get("ready"):
                    w.ready = True
                elif w.job is not None:
                    finish(w, msg)
            now = time.monotonic()
            for slot, w in enumerate(list(pool)):
                if w.job is not None and now > w.deadline:
                    finish(w, {"id": w.job.id, "status": "timeout", "reason": f"no frames after {timeout:.0f} s"})
                    replace(slot, w)
                elif not w.ready and now > w.deadline:
                    raise RuntimeError(f"render worker did not start within {startup_timeout:.0f} s")
        for w in pool:
            sel.unregister(w.proc.stdout)
            w.close()
    return {j.id: done[j.id] for j in jobs if j.id in done}
