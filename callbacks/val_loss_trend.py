"""ValLossTrend: validation loss rising ``epochs`` epochs in a row warns or rolls back.

With ``action: rollback`` every epoch whose loss rose is voted bad, so the shared "last good" state
is the one before the streak began, and that is what the rollback restores.
"""

from __future__ import annotations

import math

from lightning.pytorch.utilities import rank_zero_warn

from callbacks.events import emit_event
from callbacks.rollback import RollbackJudge, last_good


class ValLossTrend(RollbackJudge):
    def __init__(self, monitor: str = "val/loss", epochs: int = 3, action: str = "warn", min_delta: float = 0.0) -> None:
        super().__init__()
        if action not in ("warn", "rollback"):
            raise ValueError(f"ValLossTrend: action must be 'warn' or 'rollback', got {action!r}")
        self.monitor, self.epochs, self.action, self.min_delta = monitor, int(epochs), action, float(min_delta)
        self.previous: float | None = None
        self.rising = 0
        self.triggers = 0

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        loss = float(trainer.callback_metrics[self.monitor])
        rose = self.previous is not None and math.isfinite(loss) and loss > self.previous + self.min_delta
        self.rising = self.rising + 1 if rose else 0
        self.previous = loss
        store = last_good(trainer)
        store.vote(trainer, not (rose and self.action == "rollback"))
        if self.rising < self.epochs:
            return
        self.triggers += 1
        emit_event(trainer, "val_loss_rising", epochs=self.rising, loss=loss, action=self.action)
        if self.action == "warn":
            rank_zero_warn(f"ValLossTrend: {self.monitor} rose {self.rising} epochs in a row (now {loss:.4g})")
            return
        if store.rollback(
            trainer, pl_module, source="ValLossTrend", reason=f"{self.monitor} rose {self.rising} epochs in a row", loss=loss
        ):
            self.rising, self.previous = 0, None

    def state_dict(self) -> dict:
        return {"previous": self.previous, "rising": self.rising, "triggers": self.triggers}

    def load_state_dict(self, state_dict: dict) -> None:
        self.previous = state_dict.get("previous")
        self.rising = int(state_dict.get("rising", 0))
        self.triggers = int(state_dict.get("triggers", 0))
