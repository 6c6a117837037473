"""A daemon run's training: the plan (full retrain or warm-started stages) and its train.py subprocesses.

Full retrain (no champion yet, the data grew ``full_retrain_growth`` times since the last one, or on
demand): one stage on every train pair, from scratch. Otherwise two stages, each warm-started
(``init_from``) from the weights before it, the first from the champion's: ``elite`` (the elite train
pairs, ``elite_warmup_epochs``) then ``incremental`` (new pairs + a replay sample of old ones).
Each stage is a ``train.py`` run in ``runs/<id>/train/<stage>`` with its log beside it; a stage killed
half-way restarts from its ``last.ckpt``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig

from aivj.daemon.views import write_view
from aivj.home import project_root


class StepFailed(RuntimeError):
    """A step of a run failed; the message is one line naming what and where."""


def plan_stages(cfg: DictConfig, full: bool) -> list[dict]:
    t = cfg.train
    if full:
        return [{"name": "full", "view": "full", "epochs": t.full_epochs, "warm": False}]
    stages = [{"name": "elite", "view": "elite", "epochs": int(t.elite_warmup_epochs), "warm": True}]
    stages.append({"name": "incremental", "view": "incremental", "epochs": int(t.incremental_epochs), "warm": True})
    return [s for s in stages if s["epochs"]]


def stage_command(cfg: DictConfig, stage: dict, view_dir: Path, out: Path, init_from: str | None, registry) -> list[str]:
    cmd = [sys.executable, str(project_root() / "train.py"), *map(str, cfg.train.overrides)]
    cmd += ["data=aidata", f"data.data_dir={view_dir}", f"hydra.run.dir={out}", "registry.enabled=false"]
    cmd += ["extras.print_config=false", "trainer.enable_progress_bar=false", "callbacks.rich_progress_bar=null"]
    if stage["epochs"]:
        cmd.append(f"trainer.max_epochs={int(stage['epochs'])}")
    if registry is not None:
        cmd.append(f"paths.registry_dir={registry}")
    last = out / "checkpoints" / "last.ckpt"
    if last.is_file():
        cmd.append(f"ckpt_path={last}")  # killed half-way: continue the stage
    elif init_from:
        cmd.append(f"init_from={init_from}")
    return cmd


def _die_with_parent() -> None:
    """Linux: the stage gets SIGKILL when the daemon dies (kill -9 included), so a restarted daemon never
    finds an orphan still writing into the stage folder it is about to redo."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_stage(cmd: list[str], out: Path, timeout: float, on_epoch: Callable[[int], None]) -> dict:
    """Run one train.py stage; ``on_epoch(n)`` each time its ``last.ckpt`` is rewritten (once an epoch)."""
    out.mkdir(parents=True, exist_ok=True)
    log, last, seen, epochs = out / "train.log", out / "checkpoints" / "last.ckpt", None, 0
    start = time.monotonic()
    with open(log, "a", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, cwd=project_root(), stdout=fh, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        while proc.poll() is None:
            if time.monotonic() - start > timeout:
                proc.kill()
                proc.wait()
                raise StepFailed(f"train.py stage {out.name} ran past {timeout:.0f} s (log: {log})")
            stamp = last.stat().st_mtime_ns if last.exists() else None
            if stamp != seen and stamp is not None:
                seen, epochs = stamp, epochs + 1
                on_epoch(epochs)
            time.sleep(0.5)
    metrics_path = out / "metrics.json"
    if proc.returncode != 0 or not metrics_path.is_file():
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        raise StepFailed(f"train.py stage {out.name} exited {proc.returncode}: {lines[-1][:200] if lines else ''} (log: {log})")
    saved = json.loads(metrics_path.read_text())
    ckpt = saved.get("best_checkpoint") or (str(last) if last.exists() else None)
    if not ckpt or not Path(ckpt).is_file():
        raise StepFailed(f"{metrics_path}: no checkpoint was saved (log: {log})")
    return {"checkpoint": ckpt, "metrics": saved.get("metrics", {}), "seconds": round(time.monotonic() - start, 1)}


def prepare_view(data_dir: Path, run_dir: Path, stage: dict, new_keys: set, replay_ratio: float, seed: int) -> tuple[Path, dict]:
    view_dir = run_dir / "views" / stage["name"]
    return view_dir, write_view(data_dir, view_dir, stage["view"], new_keys, replay_ratio, seed)
