"""GoldenPRCurve: a TensorBoard PR curve of the golden-set classification after each validation.

The golden gate calls a pair "good" when its predicted score is >= 3 (``PASS_THRESHOLD``). Golden
labels: elite positives are 1, negatives (score <= 2) are 0; other rows are not golden cases. The
curve's "probability" is the predicted score / 5 clipped to [0, 1], so the gate's operating point is
the threshold 0.6. The precision and recall at that point are written as scalars next to the curve
(``golden/precision_at_pass``, ``golden/recall_at_pass``). The golden dataloader's index comes from
``trainer.datamodule.val_split_names``. Needs a TensorBoard logger; does nothing without one.
"""

from __future__ import annotations

import lightning as L
import torch

from aivj.contract.thresholds import ELITE_SCORE, NEGATIVE_SCORE, PASS_THRESHOLD
from callbacks.predictions import batch_predictions, split_index

MAX_SCORE = 5.0


def golden_labels(score: torch.Tensor, is_elite: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(label, judged): label 1 for elite positives, 0 for negatives; judged marks the golden cases."""
    positive = is_elite.bool() if is_elite is not None else score >= ELITE_SCORE
    negative = ~positive & (score <= NEGATIVE_SCORE)
    return positive, positive | negative


def precision_recall_at(pred: torch.Tensor, label: torch.Tensor, threshold: float) -> tuple[float, float]:
    called = pred >= threshold
    tp = float((called & label).sum())
    precision = tp / float(called.sum()) if called.any() else float("nan")
    recall = tp / float(label.sum()) if label.any() else float("nan")
    return precision, recall


class GoldenPRCurve(L.Callback):
    def __init__(
        self, golden_split: str = "golden", tag: str = "golden/pr_curve", every_n_epochs: int = 1, golden_dataloader_idx: int = 1
    ) -> None:
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"GoldenPRCurve: every_n_epochs must be >= 1, got {every_n_epochs}")
        self.golden_split, self.tag, self.every = golden_split, tag, every_n_epochs
        self.golden_dataloader_idx = golden_dataloader_idx
        self._pred: list[torch.Tensor] = []
        self._label: list[torch.Tensor] = []

    def _writers(self, trainer) -> list:
        out = []
        for logger in trainer.loggers:
            exp = getattr(logger, "experiment", None)
            if type(exp).__name__ == "SummaryWriter" and hasattr(exp, "add_pr_curve"):
                out.append(exp)
        return out

    def _active(self, trainer) -> bool:
        return (
            not trainer.sanity_checking
            and trainer.current_epoch % self.every == 0
            and trainer.is_global_zero
            and bool(self._writers(trainer))
        )

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self._pred, self._label = [], []

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if dataloader_idx != split_index(trainer, self.golden_split, self.golden_dataloader_idx) or not self._active(trainer):
            return
        score = batch["score"].detach().float().flatten().cpu()
        elite = batch.get("is_elite")
        label, judged = golden_labels(score, None if elite is None else elite.detach().flatten().cpu())
        pred = batch_predictions(pl_module, outputs, batch)
        self._pred.append(pred[judged])
        self._label.append(label[judged])

    def on_validation_end(self, trainer, pl_module) -> None:
        if not self._pred or not self._active(trainer):
            return
        pred, label = torch.cat(self._pred), torch.cat(self._label)
        if pred.numel() == 0:
            return
        prob = (pred / MAX_SCORE).clamp(0.0, 1.0)
        precision, recall = precision_recall_at(pred, label, PASS_THRESHOLD)
        for writer in self._writers(trainer):
            writer.add_pr_curve(self.tag, label.int(), prob, global_step=trainer.global_step, num_thresholds=101)
            writer.add_scalar("golden/precision_at_pass", precision, trainer.global_step)
            writer.add_scalar("golden/recall_at_pass", recall, trainer.global_step)
        self._pred, self._label = [], []
