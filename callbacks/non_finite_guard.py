"""NonFiniteGuard: a NaN/Inf loss, gradient or weight restores the last finite state and halves the lr.

The loss is checked before backward, gradients before the optimizer step (the step is then made a
no-op by dropping the gradients), weights after each batch. The guard keeps its own snapshot every
``snapshot_every_n_steps`` finite steps (finer than the per-validation "last good" state, which it
uses when it has none). The ``max_events``-th event stops the run with NonFiniteTrainingError.
"""

from __future__ import annotations

import torch
from lightning.pytorch.callbacks import Callback

from callbacks.events import emit_event
from callbacks.rollback import capture_state, current_lrs, last_good, restore_state, scale_lr


class NonFiniteTrainingError(RuntimeError):
    pass


def _all_finite(tensors) -> bool:
    # One host sync over the tensors' norms (foreach: one call), not an isfinite + all + sync per tensor,
    # which were ~160 calls and ~10% of a 144-pair training step (docs/benchmarks.md, "Training step").
    # A NaN or Inf element makes its norm NaN or Inf; so does a finite tensor whose norm overflows float32
    # (elements ~1e19), which counts as a blow-up too: gradient clipping would zero such a step anyway.
    tensors = [t.detach() for t in tensors if t is not None]
    # float32 norms: a finite fp16 tensor's norm may pass 65,504 (fp16's largest) without any element doing so.
    return not tensors or bool(torch.stack(torch._foreach_norm(tensors, dtype=torch.float32)).isfinite().all())


class NonFiniteGuard(Callback):
    def __init__(
        self, max_events: int = 3, lr_factor: float = 0.5, snapshot_every_n_steps: int = 50, check_weights_every_n_steps: int = 1
    ) -> None:
        super().__init__()
        if max_events < 1 or not 0 < lr_factor <= 1:
            raise ValueError(f"NonFiniteGuard: need max_events >= 1 and 0 < lr_factor <= 1, got {max_events}, {lr_factor}")
        self.max_events, self.lr_factor = int(max_events), float(lr_factor)
        self.snapshot_every, self.weights_every = max(1, snapshot_every_n_steps), max(1, check_weights_every_n_steps)
        self.events: list[dict] = []
        self._snapshot: dict | None = None
        self._bad_loss_step: int | None = None
        self._batch: tuple | None = None  # (epoch, batch_idx) of the batch in flight
        self._handled_batch: tuple | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        if _all_finite(pl_module.parameters()):
            self._snapshot = capture_state(trainer, pl_module)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._batch = (trainer.current_epoch, batch_idx)

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        if not bool(torch.isfinite(loss.detach()).all()):
            self._bad_loss_step = trainer.global_step

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        bad_loss = self._bad_loss_step == trainer.global_step
        if bad_loss or not _all_finite(p.grad for p in pl_module.parameters()):
            self._handle(trainer, pl_module, "loss" if bad_loss else "gradient")
            # Optimizers skip parameters without a gradient: this step changes nothing.
            for p in pl_module.parameters():
                p.grad = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and not bool(torch.isfinite(loss.detach()).all()):
            self._handle(trainer, pl_module, "loss")
            return
        if trainer.global_step % self.weights_every == 0 and not _all_finite(pl_module.parameters()):
            self._handle(trainer, pl_module, "weight")
            return
        if self._handled_batch != self._batch and trainer.global_step % self.snapshot_every == 0:
            self._snapshot = capture_state(trainer, pl_module)

    def _handle(self, trainer, pl_module, kind: str) -> None:
        if self._handled_batch == self._batch:  # one event per batch (NaN loss -> NaN grads -> NaN output)
            return
        self._handled_batch = self._batch
        n = len(self.events) + 1
        record = {"kind": kind, "step": trainer.global_step, "epoch": trainer.current_epoch}
        self.events.append(record)
        if n >= self.max_events:
            emit_event(trainer, "non_finite_stop", what=kind, events=n)
            raise NonFiniteTrainingError(
                f"NonFiniteGuard: {n} non-finite events (the last a NaN/Inf {kind} at step {trainer.global_step}, "
                f"epoch {trainer.current_epoch}); lr already cut to {current_lrs(trainer)}; see events.jsonl in "
                f"{trainer.default_root_dir}"
            )
        before = current_lrs(trainer)
        state = self._snapshot if self._snapshot is not None else last_good(trainer).state
        if state is None:
            raise NonFiniteTrainingError(
                f"NonFiniteGuard: NaN/Inf {kind} at step {trainer.global_step} and no finite state to restore"
            )
        restore_state(trainer, pl_module, state)
        lrs = scale_lr(trainer, self.lr_factor, before)
        emit_event(trainer, "non_finite", what=kind, events=n, restored_step=state["global_step"], lr=lrs)
        emit_event(
            trainer,
            "rollback",
            source="NonFiniteGuard",
            reason=f"non-finite {kind}",
            restored_epoch=state["epoch"],
            restored_step=state["global_step"],
            restored_from="memory",
        )

    def state_dict(self) -> dict:
        return {"events": list(self.events)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.events = list(state_dict.get("events", []))


__all__ = ["NonFiniteGuard", "NonFiniteTrainingError"]
