"""A tiny scorer and random data with the datamodule's batch contract, for the gate/registry/export tests.

``TinyCouplingModule`` mimics CouplingLitModule's surface (``net(batch)["score"]`` in 0-5,
``net.encode_presets`` / ``net.score_pairs``, ``val/*`` and ``golden/*`` metrics) in a few
parameters, so a test run takes a second. ``nan_at_steps`` makes training_step return NaN there.
"""

from __future__ import annotations

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from aivj.contract import trusted
from aivj.contract.schema import FEATURE_DIM, RENDER_DIM
from aivj.contract.thresholds import ELITE_SCORE, golden_pass_rate


class TinyNet(nn.Module):
    def __init__(self, hidden: int = 8) -> None:
        super().__init__()
        self.enc = nn.Linear(FEATURE_DIM + RENDER_DIM + 1, hidden)
        self.head = nn.Linear(2 * hidden, 1)

    def encode_presets(self, static, render, has_render) -> torch.Tensor:
        has = has_render.float()[:, None]
        return torch.tanh(self.enc(torch.cat([static, render * has, has], dim=-1)))

    def score_pairs(self, enc, fg_idx, bg_idx) -> torch.Tensor:
        return 5.0 * torch.sigmoid(self.head(torch.cat([enc[fg_idx], enc[bg_idx]], dim=-1)).squeeze(-1))

    def forward(self, batch: dict) -> dict:
        fg = self.encode_presets(batch["fg_static"], batch["fg_render"], batch["fg_has_render"])
        bg = self.encode_presets(batch["bg_static"], batch["bg_render"], batch["bg_has_render"])
        idx = torch.arange(fg.shape[0], device=fg.device)
        return {"score": self.score_pairs(torch.cat([fg, bg]), idx, idx + fg.shape[0])}


def pairwise_accuracy(pred: torch.Tensor, score: torch.Tensor) -> float:
    i, j = torch.triu_indices(len(score), len(score), offset=1)
    keep = (score[i] - score[j]).abs() >= 0.25
    agree = torch.sign(pred[i] - pred[j]) == torch.sign(score[i] - score[j])
    return float(agree[keep].float().mean())


class TinyCouplingModule(L.LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.02, nan_at_steps: tuple = (), log_golden: bool = True) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = TinyNet(hidden)
        self._val: dict[int, list] = {}

    def training_step(self, batch, batch_idx):
        loss = nn.functional.mse_loss(self.net(batch)["score"], batch["score"])
        if self.global_step in self.hparams.nan_at_steps:
            loss = loss * float("nan")
        self.log("train/loss", loss, on_step=True, on_epoch=True, batch_size=len(batch["score"]))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = {}

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        pred = self.net(batch)["score"]
        self._val.setdefault(dataloader_idx, []).append((pred.detach(), batch["score"]))
        if dataloader_idx == 0:
            self.log("val/loss", nn.functional.mse_loss(pred, batch["score"]), add_dataloader_idx=False, batch_size=len(pred))
        return {"pred": pred.detach()}

    def on_validation_epoch_end(self) -> None:
        for idx, parts in self._val.items():
            pred, score = torch.cat([p for p, _ in parts]), torch.cat([s for _, s in parts])
            if idx == 0:
                self.log("val/pairwise_acc", pairwise_accuracy(pred, score))
                self.log("val/mae", (pred - score).abs().mean())
            elif self.hparams.log_golden:
                self.log("golden/pass_rate", golden_pass_rate(pred, score))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.9)}


def random_batch(n: int, seed: int, golden: bool = False) -> dict:
    """Pairs whose score is a smooth function of one FG feature: easy to learn in a few steps."""
    g = torch.Generator().manual_seed(seed)
    fg, bg = torch.randn(n, FEATURE_DIM, generator=g), torch.randn(n, FEATURE_DIM, generator=g)
    if golden:  # half clear positives, half clear negatives, like the elite set
        fg[:, 0] = torch.where(torch.arange(n) % 2 == 0, 1.5, -1.5) + 0.2 * torch.randn(n, generator=g)
    score = 5.0 * torch.sigmoid(2.0 * fg[:, 0])
    zeros = torch.zeros(n, RENDER_DIM)
    return {
        "fg_static": fg,
        "bg_static": bg,
        "fg_render": zeros,
        "bg_render": zeros,
        "fg_has_render": torch.zeros(n),
        "bg_has_render": torch.zeros(n),
        "score": score,
        "is_elite": score >= ELITE_SCORE,
        "fg_idx": torch.arange(n),
        "bg_idx": torch.arange(n),
    }


class _Rows(Dataset):
    def __init__(self, batch: dict) -> None:
        self.batch = batch

    def __len__(self) -> int:
        return len(self.batch["score"])

    def __getitem__(self, i):
        return {k: v[i] for k, v in self.batch.items()}


class RandomPairsDataModule(L.LightningDataModule):
    val_split_names = ["val", "golden"]
    test_split_names = ["golden"]

    def __init__(self, n_train: int = 1024, n_val: int = 256, n_golden: int = 128, batch_size: int = 64) -> None:
        super().__init__()
        self.sizes, self.batch_size = (n_train, n_val, n_golden), batch_size

    def train_dataloader(self):
        return DataLoader(_Rows(random_batch(self.sizes[0], 0)), batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return [
            DataLoader(_Rows(random_batch(self.sizes[1], 1)), batch_size=self.batch_size),
            DataLoader(_Rows(random_batch(self.sizes[2], 2, golden=True)), batch_size=self.batch_size),
        ]


def trust_test_helpers(monkeypatch) -> None:
    """Let checkpoints and configs name this module's classes (the shipped code trusts only its own packages)."""
    monkeypatch.setattr(trusted, "PROJECT_PACKAGES", (*trusted.PROJECT_PACKAGES, "tests.helpers"))
    monkeypatch.setattr(trusted, "TRUSTED_TARGETS", [*trusted.TRUSTED_TARGETS, "tests.helpers.*"])
