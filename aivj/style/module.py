"""``StyleModule``: the style network in Lightning, with per-class accuracy, macro F1 and a confusion matrix.

Validation and test log window-level figures (``val/macro_f1``, ``val/acc_<label>``) and
track-level ones (``val/track_macro_f1``: a track's windows' probabilities averaged, as ``aivj
style predict`` reads a whole file). The confusion matrix of each validation goes to TensorBoard as
an image. Hyperparameters are plain values (``spec``: the feature front end the model was trained
on), so a checkpoint rebuilds its network and its front end without Hydra.
"""

from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_confusion_matrix, multiclass_f1_score

from aivj.style import DEFAULT_LABELS
from aivj.style.features import LIVE_DIM, FeatureSpec
from aivj.style.nets import StyleNet


class StyleModule(L.LightningModule):
    def __init__(
        self,
        labels: list[str] | tuple[str, ...] = DEFAULT_LABELS,
        arch: str = "cnn_lstm",
        spec: dict | None = None,
        channels: list[int] | tuple[int, ...] = (16, 32, 48),
        hidden: int = 64,
        use_live: bool = True,
        dropout: float = 0.2,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        label_smoothing: float = 0.05,
    ) -> None:
        super().__init__()
        labels, channels, spec = list(labels), [int(c) for c in channels], FeatureSpec(**dict(spec or {})).asdict()
        self.save_hyperparameters(
            {**locals(), "labels": labels, "channels": channels, "spec": spec}, ignore=["self", "__class__"]
        )
        self.labels = labels
        self.net = StyleNet(len(labels), spec["n_mels"], arch, tuple(channels), hidden, LIVE_DIM if use_live else 0, dropout)
        self._outputs: dict[str, list] = {}

    def forward(self, mel: torch.Tensor, live: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(mel, live)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        logits = self(batch["mel"], batch["live"])
        loss = F.cross_entropy(logits, batch["label"], label_smoothing=self.hparams.label_smoothing)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(logits))
        return loss

    def _eval_step(self, batch: dict, split: str) -> None:
        logits = self(batch["mel"], batch["live"])
        self.log(f"{split}/loss", F.cross_entropy(logits, batch["label"]), batch_size=len(logits))
        self._outputs.setdefault(split, []).append((logits.softmax(-1).detach(), batch["label"], batch["track"]))

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_validation_epoch_end(self) -> None:
        self._epoch_figures("val")

    def on_test_epoch_end(self) -> None:
        self._epoch_figures("test")

    def _epoch_figures(self, split: str) -> None:
        outputs = self._outputs.pop(split, [])
        if not outputs:
            return
        probs, labels, tracks = (torch.cat(x) for x in zip(*outputs))
        n = len(self.labels)
        pred = probs.argmax(-1)
        self.log(f"{split}/macro_f1", multiclass_f1_score(pred, labels, n, average="macro"))
        for name, acc in zip(self.labels, multiclass_accuracy(pred, labels, n, average=None)):
            self.log(f"{split}/acc_{name}", acc)
        track_probs, track_labels = track_level(probs, labels, tracks)
        self.log(f"{split}/track_macro_f1", multiclass_f1_score(track_probs.argmax(-1), track_labels, n, average="macro"))
        self.log(f"{split}/track_acc", (track_probs.argmax(-1) == track_labels).float().mean())
        self._log_confusion(split, multiclass_confusion_matrix(pred, labels, n))

    def _log_confusion(self, split: str, matrix: torch.Tensor) -> None:
        experiment = getattr(self.logger, "experiment", None)
        if not hasattr(experiment, "add_figure"):
            return
        from aivj.style.plots import confusion_figure

        experiment.add_figure(f"{split}/confusion", confusion_figure(matrix.cpu().numpy(), self.labels), self.current_epoch)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        epochs = max(1, int(self.trainer.max_epochs or 1)) if self._trainer is not None else 1
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)}


def track_level(probs: torch.Tensor, labels: torch.Tensor, tracks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean window probabilities per track, and each track's label."""
    ids, inverse = torch.unique(tracks, return_inverse=True)
    sums = torch.zeros(len(ids), probs.shape[1], dtype=probs.dtype).index_add_(0, inverse, probs)
    counts = torch.zeros(len(ids), dtype=probs.dtype).index_add_(0, inverse, torch.ones_like(inverse, dtype=probs.dtype))
    first = torch.zeros(len(ids), dtype=torch.long).scatter_(0, inverse, labels)
    return sums / counts[:, None], first
