"""Render on a Ray cluster (``aivj refine render|score|build ... --ray auto|ADDRESS``).

Each worker slot is a Ray actor (one CPU) that opens one projectM when it starts and keeps it for its
whole life: it never destroys it (``~projectM()`` can deadlock); Ray ends the process. The actor's
process starts with ``LD_PRELOAD=<shim>`` through its ``runtime_env`` (the virtual clock must win
symbol lookup, as in the local workers) and renders with the same ``worker.render_job``, so frames are
bit-identical to the local pool's.

Frames travel back to the driver as arrays (196 KB a preset) and the driver alone writes the frame
cache and ``status.jsonl``: worker nodes need no shared disk. A node renders a preset from its path when
the path is readable there (same machine, shared or mirrored folder) and else from a node-local copy of
the bytes the driver sent (a texture in the preset's own folder does not travel with it).

Failures are recorded as the local pool records them: ``load_error`` and ``black`` come from
``render_job``; ``timeout`` when no answer comes within the timeout (the actor is killed and replaced);
``crash`` when a preset's worker dies. A worker can also die for reasons of its own (killed from outside,
a lost node), so a job whose actor died is retried once (on the next free actor; the dead one is
replaced) and recorded ``crash`` only when its second actor dies too. A Python error inside an actor is a
``crash`` with the error as its reason (a local worker dies of it). Test hooks (``AIVJ_REFINERY_FAULT``): ``crash:NAME``, ``hang:NAME`` as in the
local worker, ``kill:NAME``: the actor SIGKILLs itself on the first attempt at NAME, ``raise:NAME``: a Python
error in the actor; several, comma-separated.
"""

from __future__ import annotations

import os
import signal
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from aivj.refinery.cache import FrameCache
from aivj.refinery.native import REPO_ROOT
from aivj.refinery.settings import RenderSettings

ATTEMPTS = 2  # a job whose actor dies this many times is a crash


class RenderActor:
    """One projectM for the life of the process (wrapped with ``ray.remote`` by ``_actor_class``)."""

    def __init__(self, settings_json: str):
        from aivj.refinery.worker import BLACK_PRESET, Shim

        self.settings = RenderSettings.from_json(settings_json)
        self.tmp = Path(tempfile.mkdtemp(prefix="aivj-ray-render-"))
        self.black = self.tmp / "black.milk"
        self.black.write_text(BLACK_PRESET)
        self.shim = Shim(os.environ["AIVJ_SHIM"], self.settings)  # raises: the actor fails to start, in one line

    def pid(self) -> int:
        return os.getpid()

    def render(self, job: dict, text: bytes):
        from aivj.refinery.worker import render_job

        t0 = time.perf_counter()
        for fault in filter(None, os.environ.get("AIVJ_REFINERY_FAULT", "").split(",")):
            kind, _, name = fault.partition(":")
            if job["path"].endswith(name):
                if kind == "hang":
                    time.sleep(3600)
                if kind == "kill" and job["attempt"] == 0:
                    os.kill(os.getpid(), signal.SIGKILL)
                if kind == "crash":
                    os.abort()
                if kind == "raise":
                    raise RuntimeError(f"test fault in {name}")
        path = job["path"]
        if not os.access(path, os.R_OK):  # not on this node: render the bytes the driver read
            copy = self.tmp / job["id"] / Path(path).name
            copy.parent.mkdir(exist_ok=True)
            copy.write_bytes(text)
            path = str(copy)
        frames = {}
        rec = render_job(self.shim, self.settings, str(self.black), {"id": job["id"], "path": path}, frames.__setitem__)
        rec["path"] = job["path"]
        rec["seconds"] = round(time.perf_counter() - t0, 4)
        return rec, frames.get(job["id"])


def _actor_class(shim: Path):
    import ray

    env = {
        "LD_PRELOAD": str(shim),
        "AIVJ_SHIM": str(shim),
        "LP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    if os.environ.get("AIVJ_REFINERY_FAULT"):
        env["AIVJ_REFINERY_FAULT"] = os.environ["AIVJ_REFINERY_FAULT"]
    return ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0, runtime_env={"env_vars": env})(RenderActor)


def connect(address: str) -> bool:
    """Join the cluster at ``address`` (``auto``: the one started on this machine); True when this call joined."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit() and "://" not in address:
        try:  # ray.init retries a dead address for minutes: ask the port first
            socket.create_connection((host, int(port)), timeout=10).close()
        except OSError as exc:
            raise RuntimeError(
                f"--ray {address}: cannot join a Ray cluster ({exc.strerror or exc}); start one with `ray start --head`"
            ) from None
    try:
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    except (ConnectionError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RuntimeError(f"--ray {address}: cannot join a Ray cluster ({first}); start one with `ray start --head`") from None
    return True


@dataclass
class _Slot:
    actor: object
    ref: object  # the pending call: pid() while starting, render() while busy, None when idle
    deadline: float
    job: object | None = None  # a render.Job
    attempt: int = 0


def render_on_ray(
    todo: list,
    settings: RenderSettings,
    cache: FrameCache,
    shim: Path,
    address: str,
    workers: int | None,
    timeout: float,
    startup_timeout: float,
    bar: Progress,
) -> dict[str, dict]:
    """Render ``todo`` (``render.Job``s) on Ray actors; writes frames and status records into ``cache``;
    returns {id: record}. ``bar``: the caller's progress display (render.py's columns)."""
    import ray
    from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

    joined = connect(address)
    actor_cls = _actor_class(shim)
    done: dict[str, dict] = {}
    died: dict[str, int] = {}
    queue = [(j, 0) for j in reversed(todo)]
    n = max(1, min(workers or int(ray.cluster_resources().get("CPU", 1)), len(todo) or 1))

    def start() -> _Slot:
        actor = actor_cls.remote(settings.to_json())
        return _Slot(actor, actor.pid.remote(), time.monotonic() + startup_timeout)

    def finish(slot: _Slot, rec: dict) -> None:
        rec.setdefault("path", slot.job.path)
        cache.record(rec)
        done[rec["id"]] = rec
        slot.job = None
        bar.advance(task)

    def restart(i: int) -> None:
        ray.kill(slots[i].actor, no_restart=True)
        slots[i] = start()

    slots: list[_Slot] = []
    try:
        with bar:
            task = bar.add_task("render", total=len(todo))
            slots = [start() for _ in range(n if todo else 0)]
            while queue or any(s.job for s in slots):
                for s in slots:
                    if s.ref is None and queue:
                        job, attempt = queue.pop()
                        s.job, s.attempt, s.deadline = job, attempt, time.monotonic() + timeout
                        s.ref = s.actor.render.remote(
                            {"id": job.id, "path": job.path, "attempt": attempt}, Path(job.path).read_bytes()
                        )
                pending = [s.ref for s in slots if s.ref is not None]
                ready, _ = ray.wait(pending, num_returns=len(pending), timeout=0.5) if pending else ([], [])
                for i, s in enumerate(list(slots)):
                    if s.ref is None or s.ref not in ready:
                        continue
                    ref, s.ref = s.ref, None
                    try:
                        answer = ray.get(ref)
                    except (RayActorError, WorkerCrashedError) as exc:
                        if s.job is None:  # died while opening projectM
                            raise RuntimeError(f"render actor failed to start: {_cause(exc)}") from None
                        died[s.job.id] = died.get(s.job.id, 0) + 1
                        if died[s.job.id] < ATTEMPTS:
                            queue.append((s.job, s.attempt + 1))  # next in line
                            s.job = None
                        else:
                            finish(
                                s,
                                {
                                    "id": s.job.id,
                                    "status": "crash",
                                    "reason": f"worker died while rendering ({ATTEMPTS} Ray actors in a row)",
                                },
                            )
                        slots[i] = start()
                        continue
                    except RayTaskError as exc:
                        if s.job is None:
                            raise RuntimeError(f"render actor failed to start: {_cause(exc)}") from None
                        finish(s, {"id": s.job.id, "status": "crash", "reason": f"worker raised {_cause(exc)}"})
                        continue
                    if s.job is not None:
                        rec, frames = answer
                        if frames is not None:
                            cache.save_frames(rec["id"], frames)
                        finish(s, rec)
                now = time.monotonic()
                for i, s in enumerate(slots):
                    if s.ref is not None and now > s.deadline:
                        if s.job is None:
                            raise RuntimeError(f"Ray render actor did not start within {startup_timeout:.0f} s")
                        finish(s, {"id": s.job.id, "status": "timeout", "reason": f"no frames after {timeout:.0f} s"})
                        restart(i)
    finally:
        for s in slots:
            ray.kill(s.actor, no_restart=True)
        if joined:
            ray.shutdown()
    return done


def _cause(exc: Exception) -> str:
    text = str(exc)
    for line in text.splitlines():  # Ray wraps the actor's __init__ error in a long report: keep its last line
        if "Error:" in line:
            text = line
    return text.strip()[:300]
