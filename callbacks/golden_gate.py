"""GoldenSetGate: an epoch whose golden-set pass rate is below the threshold cannot become "best".

After each validation it reads the pass rate on every scoring path in ``paths`` (aivj/scoring_paths.py:
``render`` reads ``golden/pass_rate``, ``static`` reads ``static/golden/pass_rate``; when the module did
not log one, the gate counts it itself over the golden dataloader, has_render forced to 0 for the
static path). The epoch passes when every path reaches its threshold (``thresholds[path]``, else
``threshold``). It publishes ``val/gated_pairwise_acc``: equal to
``val/pairwise_acc`` when the gate passes, ``fail_value`` (-1, below any accuracy) when it fails.
ModelCheckpoint monitors the gated metric, so a failing epoch is never saved as best once any
epoch has passed. ``patience`` consecutive failures roll back to the last state all gates passed,
when one of the failing paths is in ``rollback_paths`` (default: every path).
"""

from __future__ import annotations

import math

import torch

from aivj.contract.scoring_paths import SCORING_PATHS, metric_name
from aivj.contract.thresholds import GOLDEN_PASS_RATE
from callbacks.events import emit_event, publish_metrics
from callbacks.predictions import batch_predictions, golden_pass_rate, split_index
from callbacks.rollback import (
    RollbackJudge,
    best_checkpoint,
    checkpoint_state,
    last_good,
)


class GoldenSetGate(RollbackJudge):
    def __init__(
        self,
        threshold: float = GOLDEN_PASS_RATE,
        patience: int = 2,
        pass_metric: str = "golden/pass_rate",
        source_metric: str = "val/pairwise_acc",
        gated_metric: str = "val/gated_pairwise_acc",
        fail_value: float = -1.0,
        golden_split: str = "golden",
        golden_dataloader_idx: int = 1,
        rollback: bool = True,
        paths=("render",),
        thresholds: dict | None = None,
        rollback_paths=None,
    ) -> None:
        super().__init__()
        self.paths = tuple(paths)
        if not self.paths or set(self.paths) - set(SCORING_PATHS):
            raise ValueError(f"GoldenSetGate: paths must be a non-empty subset of {SCORING_PATHS}, got {self.paths}")
        self.thresholds = {p: float((thresholds or {}).get(p, threshold)) for p in self.paths}
        for path, value in self.thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"GoldenSetGate: {path} threshold must be in [0, 1], got {value}")
        # Failing paths that may trigger a rollback (default: all). A static path still below its
        # threshold early in training should gate the checkpoint, not throw away the render path's progress.
        self.rollback_paths = tuple(self.paths if rollback_paths is None else rollback_paths)
        self.threshold, self.patience = float(threshold), int(patience)
        self.pass_metric, self.source_metric, self.gated_metric = pass_metric, source_metric, gated_metric
        self.fail_value, self.golden_split = float(fail_value), golden_split
        self.golden_dataloader_idx, self.do_rollback = golden_dataloader_idx, rollback
        self.consecutive_failures = 0
        self.rollbacks = 0
        self.history: list[dict] = []
        self._preds: dict[str, list[torch.Tensor]] = {}
        self._scores: list[torch.Tensor] = []

    def on_train_start(self, trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        # Resumed after a failing epoch: the resumed weights are not "good"; the best checkpoint is.
        best = best_checkpoint(trainer, include_last=False) if self.consecutive_failures > 0 else None
        if best is not None:
            last_good(trainer).state = checkpoint_state(best)

    # ----- collecting the golden predictions ------------------------------------------------
    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self._preds, self._scores = {p: [] for p in self.paths}, []

    def _logged(self, trainer, path: str) -> float | None:
        logged = trainer.callback_metrics.get(metric_name(path, self.pass_metric))
        return float(logged) if logged is not None and math.isfinite(float(logged)) else None

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if dataloader_idx != split_index(trainer, self.golden_split, self.golden_dataloader_idx):
            return
        for path in self.paths:
            self._preds[path].append(batch_predictions(pl_module, outputs, batch, path))
        self._scores.append(batch["score"].detach().float().flatten().cpu())

    def _pass_rate(self, trainer, path: str = "render") -> float:
        logged = self._logged(trainer, path)
        if logged is not None:
            return logged
        if self._preds.get(path):
            return golden_pass_rate(torch.cat(self._preds[path]), torch.cat(self._scores))
        return float("nan")

    # ----- the gate ----------------------------------------------------------------------------
    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        # Under DDP every rank must take rank 0's decision (a rollback on one rank alone would split the replicas).
        rates = trainer.strategy.broadcast({path: self._pass_rate(trainer, path) for path in self.paths}, src=0)
        for path, rate in rates.items():
            if math.isnan(rate):
                raise RuntimeError(
                    f"GoldenSetGate: no {path}-path golden pass rate: {metric_name(path, self.pass_metric)!r} "
                    f"was not logged and no batches came from the {self.golden_split!r} dataloader"
                )
        failing = [p for p in self.paths if rates[p] < self.thresholds[p]]
        passed = not failing
        rate = rates[self.paths[0]]
        source = trainer.callback_metrics.get(self.source_metric)
        if source is None:
            raise RuntimeError(
                f"GoldenSetGate: {self.source_metric!r} was not logged; it is what the gated "
                f"metric {self.gated_metric!r} copies on a passing epoch"
            )
        gated = float(source) if (passed and source is not None) else self.fail_value
        self.consecutive_failures = 0 if passed else self.consecutive_failures + 1
        self.history.append(
            {
                "epoch": trainer.current_epoch,
                "step": trainer.global_step,
                "pass_rate": rate,
                "pass_rates": rates,
                "passed": passed,
            }
        )
        published = {self.gated_metric: gated, "gate/golden_passed": float(passed)}
        published.update({metric_name(p, "gate/golden_pass_rate"): r for p, r in rates.items()})
        publish_metrics(trainer, published)
        store = last_good(trainer)
        store.vote(trainer, passed)
        if passed:
            return
        emit_event(
            trainer,
            "golden_gate_fail",
            pass_rate=rate,
            threshold=self.thresholds[self.paths[0]],
            failing_paths=failing,
            pass_rates=rates,
            thresholds=self.thresholds,
            consecutive_failures=self.consecutive_failures,
        )
        if self.do_rollback and self.consecutive_failures >= self.patience and set(failing) & set(self.rollback_paths):
            if store.rollback(
                trainer,
                pl_module,
                source="GoldenSetGate",
                reason=f"{self.consecutive_failures} consecutive golden-gate failures ({', '.join(failing)} path)",
                pass_rate=rate,
            ):
                self.rollbacks += 1
                self.consecutive_failures = 0

    # ----- resume ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"consecutive_failures": self.consecutive_failures, "rollbacks": self.rollbacks, "history": list(self.history)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.consecutive_failures = int(state_dict.get("consecutive_failures", 0))
        self.rollbacks = int(state_dict.get("rollbacks", 0))
        self.history = list(state_dict.get("history", []))
