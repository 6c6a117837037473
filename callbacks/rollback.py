"""Rollback inside the running process: snapshot and restore model, optimizer and scheduler state.

``capture_state`` copies the three to CPU memory; ``restore_state`` loads them back into the live
objects (no restart, the trainer keeps its epoch and step counters). ``LastGoodState`` is the one
snapshot the validation gates share per trainer: after each validation every gate votes, and the
state is committed as "last good" only when no gate voted against it. A rollback with nothing in
memory (e.g. right after a resume) falls back to the best checkpoint file of ModelCheckpoint.
"""

from __future__ import annotations

from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from callbacks.events import emit_event


def _cpu_copy(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu_copy(v) for v in obj)
    return obj


def capture_state(trainer, pl_module) -> dict:
    return {
        "model": _cpu_copy(pl_module.state_dict()),
        "optimizers": [_cpu_copy(opt.state_dict()) for opt in trainer.optimizers],
        "schedulers": [_cpu_copy(cfg.scheduler.state_dict()) for cfg in trainer.lr_scheduler_configs],
        "epoch": int(trainer.current_epoch),
        "global_step": int(trainer.global_step),
    }


def checkpoint_state(path: str | Path) -> dict:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    return {
        "model": ckpt["state_dict"],
        "optimizers": ckpt.get("optimizer_states", []),
        "schedulers": ckpt.get("lr_schedulers", []),
        "epoch": ckpt.get("epoch", -1),
        "global_step": ckpt.get("global_step", -1),
        "path": str(path),
    }


def current_lrs(trainer) -> list[list[float]]:
    return [[g["lr"] for g in opt.param_groups] for opt in trainer.optimizers]


def restore_state(trainer, pl_module, state: dict) -> None:
    device = pl_module.device
    pl_module.load_state_dict({k: v.to(device) for k, v in state["model"].items()})
    for opt, saved in zip(trainer.optimizers, state["optimizers"]):
        opt.load_state_dict(saved)  # moves the state onto each parameter's device
    for cfg, saved in zip(trainer.lr_scheduler_configs, state["schedulers"]):
        cfg.scheduler.load_state_dict(saved)


def scale_lr(trainer, factor: float, before: list[list[float]] | None = None) -> list[list[float]]:
    """Set every group's lr to factor * min(lr before the restore, restored lr).

    Taking the minimum keeps repeated halvings cumulative even when the snapshot predates the
    previous halving. Schedulers that recompute lr from ``base_lrs`` get those scaled too.
    """
    new = []
    for i, opt in enumerate(trainer.optimizers):
        group_lrs = []
        for j, group in enumerate(opt.param_groups):
            old = group["lr"] if before is None else min(group["lr"], before[i][j])
            ratio = factor * old / group["lr"] if group["lr"] else factor
            group["lr"] = factor * old
            group_lrs.append(group["lr"])
            for cfg in trainer.lr_scheduler_configs:
                sched = cfg.scheduler
                if getattr(sched, "optimizer", None) is opt and hasattr(sched, "base_lrs"):
                    sched.base_lrs[j] = sched.base_lrs[j] * ratio
        new.append(group_lrs)
    return new


def best_checkpoint(trainer, include_last: bool = True) -> str | None:
    """Best file of a ModelCheckpoint that monitors a metric; else (include_last) any last/latest file."""
    checkpoints = [cb for cb in trainer.callbacks if isinstance(cb, ModelCheckpoint)]
    candidates = [cb.best_model_path for cb in checkpoints if cb.monitor]
    if include_last:
        candidates += [cb.last_model_path or cb.best_model_path for cb in checkpoints]
    return next((p for p in candidates if p and Path(p).exists()), None)


class LastGoodState:
    """The snapshot all validation gates agree on, one per trainer (see ``last_good``)."""

    def __init__(self) -> None:
        self.state: dict | None = None
        self.pending_step: int | None = None  # global step of the validation being judged
        self.bad = False

    def vote(self, trainer, ok: bool) -> None:
        if self.pending_step != trainer.global_step:
            self.pending_step, self.bad = trainer.global_step, False
        self.bad = self.bad or not ok

    def settle(self, trainer, pl_module) -> None:
        """Commit the judged state if every vote was good; called once validation is over."""
        if self.state is None:
            self.state = capture_state(trainer, pl_module)
        elif self.pending_step is not None and not self.bad:
            self.state = capture_state(trainer, pl_module)
        self.pending_step = None

    def rollback(self, trainer, pl_module, source: str, reason: str, **fields) -> bool:
        state = self.state
        if state is None:
            path = best_checkpoint(trainer)
            if path is None:
                emit_event(trainer, "rollback_unavailable", source=source, reason=reason, **fields)
                return False
            state = checkpoint_state(path)
        origin = state.get("path", "memory")
        restore_state(trainer, pl_module, state)
        self.bad = True  # the judged state must not be committed
        emit_event(
            trainer,
            "rollback",
            source=source,
            reason=reason,
            restored_epoch=state["epoch"],
            restored_step=state["global_step"],
            restored_from=origin,
            **fields,
        )
        return True


def last_good(trainer) -> LastGoodState:
    store = getattr(trainer, "_aivj_last_good", None)
    if store is None:
        store = LastGoodState()
        trainer._aivj_last_good = store
    return store


class RollbackJudge(Callback):
    """Base of the validation gates: keeps the shared last-good snapshot up to date."""

    def on_train_start(self, trainer, pl_module) -> None:
        last_good(trainer).settle(trainer, pl_module)  # the starting (or resumed) state

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        last_good(trainer).settle(trainer, pl_module)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        last_good(trainer).settle(trainer, pl_module)
