"""Fake batches and a fake datamodule with the datamodule's batch contract, for tests and benchmarks.

The score is a learnable function of both presets (order-dependent), so a short training run must
improve on a constant guess.
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from aivj.contract.schema import FEATURE_DIM, RENDER_DIM
from aivj.contract.thresholds import ELITE_SCORE


def fake_presets(n: int, seed: int = 0, render_share: float = 0.8) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    has = (torch.rand(n, generator=g) < render_share).float()
    render = torch.rand(n, RENDER_DIM, generator=g) * has[:, None]
    return {"static": torch.randn(n, FEATURE_DIM, generator=g), "render": render, "has_render": has}


def fake_batch(n: int, seed: int = 0, n_presets: int = 64, preset_seed: int = 0) -> dict[str, torch.Tensor]:
    """A batch of n pairs (drawn with ``seed``) of n_presets fake presets (drawn with ``preset_seed``)."""
    p = fake_presets(n_presets, preset_seed)
    g = torch.Generator().manual_seed(seed + 1000)
    fg, bg = torch.randint(0, n_presets, (n,), generator=g), torch.randint(0, n_presets, (n,), generator=g)
    sf, sb = p["static"][fg], p["static"][bg]
    spatial = torch.sigmoid((sf[:, :8] * sb[:, 8:16]).sum(-1))
    temporal = torch.sigmoid(sf[:, 16] - sb[:, 17])
    score = (5 * torch.sigmoid(2 * spatial + 2 * temporal + sf[:, 0] - sb[:, 1] - 2)).clamp(0, 5)
    unmeasured = torch.rand(n, generator=g) < 0.2
    batch = {
        "fg_static": sf,
        "bg_static": sb,
        "fg_render": p["render"][fg],
        "bg_render": p["render"][bg],
        "fg_has_render": p["has_render"][fg],
        "bg_has_render": p["has_render"][bg],
        "score": score,
        "rank01": (score.argsort().argsort().float() / max(n - 1, 1)),
        "spatial": spatial.masked_fill(unmeasured, float("nan")),
        "temporal": temporal.masked_fill(unmeasured, float("nan")),
        "is_elite": score >= ELITE_SCORE,
        "fg_idx": fg,
        "bg_idx": bg,
    }
    return batch


class _Rows(Dataset):
    def __init__(self, batch: dict) -> None:
        self.batch, self.n = batch, batch["score"].shape[0]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return {k: v[i] for k, v in self.batch.items()}


class FakeDataModule(L.LightningDataModule):
    val_split_names = ["val", "golden"]
    test_split_names = ["test_seen", "test_unseen", "golden"]

    def __init__(self, n_train: int = 512, n_eval: int = 128, batch_size: int = 64) -> None:
        super().__init__()
        self.n_train, self.n_eval, self.batch_size = n_train, n_eval, batch_size

    def _loader(self, n: int, seed: int, shuffle: bool = False) -> DataLoader:
        return DataLoader(_Rows(fake_batch(n, seed)), batch_size=self.batch_size, shuffle=shuffle)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.n_train, 0, shuffle=True)

    def val_dataloader(self) -> list[DataLoader]:
        return [self._loader(self.n_eval, 1), self._loader(self.n_eval, 2)]

    def test_dataloader(self) -> list[DataLoader]:
        return [self._loader(self.n_eval, 3), self._loader(self.n_eval, 4), self._loader(self.n_eval, 5)]
