"""Baseline ``model=gbdt``: scikit-learn HistGradientBoostingRegressor inside the same LightningModule.

How it trains under train.py: epoch 1 collects the training batches' inputs (up to ``max_rows``),
the trees are fitted once when that epoch's validation starts, then training stops (one epoch,
whatever trainer.max_epochs says). Validation, test and metrics are CouplingLitModule's. The fitted
trees travel inside the Lightning checkpoint (pickled under ``gbdt``), so "test the best
checkpoint" works.
"""

from __future__ import annotations

import pickle

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from torch import nn

from coupling.inputs import check_inputs, preset_vector, side_tensors
from coupling.losses import ScoreLoss
from coupling.module import CouplingLitModule


class GBDTNet(nn.Module):
    """Concatenated FG and BG preset vectors -> trees -> score (2.5 until fitted)."""

    def __init__(
        self,
        inputs: str = "both",
        max_iter: int = 500,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 63,
        l2_regularization: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.inputs = check_inputs(inputs)
        self.config = dict(
            inputs=inputs,
            max_iter=max_iter,
            learning_rate=learning_rate,
            max_leaf_nodes=max_leaf_nodes,
            l2_regularization=l2_regularization,
        )
        self.model = HistGradientBoostingRegressor(
            max_iter=max_iter,
            learning_rate=learning_rate,
            max_leaf_nodes=max_leaf_nodes,
            l2_regularization=l2_regularization,
            early_stopping=False,
            random_state=seed,
        )
        self.fitted = False
        self.register_buffer("_device_probe", torch.zeros(0))

    def features(self, batch: dict) -> np.ndarray:
        x = [preset_vector(*side_tensors(batch, side), self.inputs) for side in ("fg", "bg")]
        return torch.cat(x, dim=-1).detach().cpu().numpy()

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.model.fit(x, y)
        self.fitted = True

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        n = batch["score"].shape[0] if "score" in batch else batch["fg_static"].shape[0]
        if not self.fitted:
            return {"score": torch.full((n,), 2.5, device=self._device_probe.device)}
        pred = np.clip(self.model.predict(self.features(batch)), 0.0, 5.0)
        return {"score": torch.as_tensor(pred, dtype=torch.float32, device=self._device_probe.device)}


class GBDTLitModule(CouplingLitModule):
    def __init__(self, net: GBDTNet, loss: nn.Module | None = None, max_rows: int = 300_000, **kwargs) -> None:
        super().__init__(net, loss or ScoreLoss(), **kwargs)
        self.automatic_optimization = False
        self.max_rows = max_rows
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []

    def configure_optimizers(self):
        return None  # nothing to optimise by gradient

    def training_step(self, batch: dict, batch_idx: int) -> None:
        if not self.net.fitted and sum(len(y) for y in self._y) < self.max_rows:
            self._x.append(self.net.features(batch))
            self._y.append(batch["score"].float().cpu().numpy())

    def _fit_collected(self) -> None:
        x, y = np.concatenate(self._x)[: self.max_rows], np.concatenate(self._y)[: self.max_rows]
        self.net.fit(x, y)
        self._x, self._y = [], []
        # train/loss on ScoreLoss's scale (MSE of score / 5), from the training rows themselves
        self._train_loss = float(np.mean(((np.clip(self.net.model.predict(x), 0, 5) - y) / 5.0) ** 2))

    def on_validation_epoch_start(self) -> None:
        if self._y and not self.net.fitted and not self.trainer.sanity_checking:
            self._fit_collected()

    def on_train_epoch_end(self) -> None:
        if self._y and not self.net.fitted:  # no validation loop ran: fit here
            self._fit_collected()
        if self.net.fitted and hasattr(self, "_train_loss"):
            self.log("train/loss", self._train_loss, on_epoch=True, prog_bar=True)
        self.trainer.should_stop = self.net.fitted

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["gbdt"] = pickle.dumps(self.net.model) if self.net.fitted else None

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if checkpoint.get("gbdt") is not None:
            self.net.model, self.net.fitted = pickle.loads(checkpoint["gbdt"]), True
