"""CouplingDataModule: the presets + pairs Parquet layout as Lightning dataloaders.

Training batches come from the EliteDataPrioritySampler (``batch_groups`` x (elite + regular)
pairs, the same ratio in every batch); validation yields ``val`` then ``golden``; test yields ``test_seen``,
``test_unseen`` then ``golden``. Golden pairs never reach a training batch: they live in
their own split and the training split is read with ``split == "train"``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pyarrow.compute as pc
from torch.utils.data import DataLoader

from datamodules.pairs import PairSplit, PresetTable, load_splits, restrict_to_collections, take_batch
from datamodules.sampler import EliteDataPrioritySampler
from datamodules.tiers import materialize_tiers, tiers_are_current


class CouplingDataModule(L.LightningDataModule):
    def __init__(
        self,
        data_dir: str | None = None,
        generator: Callable[[], Path] | None = None,
        elite_per_batch: int = 4,
        regular_per_batch: int = 32,
        batch_groups: int = 1,
        eval_batch_size: int = 2048,
        num_workers: int = 0,
        persistent_workers: bool = False,
        min_score_bin: int | None = None,
        seed: int = 0,
        train_collections: list[str] | None = None,
        test_collections: list[str] | None = None,
        live_weights: Callable[[np.ndarray, np.ndarray], np.ndarray | None] | None = None,
    ) -> None:
        super().__init__()
        if data_dir is None and generator is None:
            raise ValueError("data: give data_dir (a dataset folder) or a generator")
        if data_dir is not None and not Path(data_dir).is_dir():  # not a silent fall-back to the generator
            raise FileNotFoundError(f"data.data_dir={data_dir}: no such dataset folder")
        # plain lists: checkpoints keep these hyperparameters and Lightning loads them weights-only,
        # which cannot rebuild OmegaConf's ListConfig
        train_collections = [str(c) for c in train_collections] if train_collections else None
        test_collections = [str(c) for c in test_collections] if test_collections else None
        self.save_hyperparameters(ignore=["generator", "live_weights"], logger=False)
        # (packs, pairs) of the regular training pairs -> weights or None; e.g. aivj.stream.reader.LiveWeights,
        # named by the config (data.live_weights), never imported here: datamodules import only the contract
        self.live_weights = live_weights
        self.generator = generator if data_dir is None else None  # a folder the user names wins
        self.data_dir = Path(data_dir) if data_dir else None
        self.val_split_names = ["val", "golden"]
        self.test_split_names = ["test_seen", "test_unseen", "golden"]
        self.splits: dict[str, PairSplit] = {}
        self.presets: PresetTable | None = None
        self.train_sampler: EliteDataPrioritySampler | None = None

    def prepare_data(self) -> None:
        if self.generator is not None:
            self.data_dir = Path(self.generator())
        if not (self.data_dir / "presets.parquet").exists():
            raise FileNotFoundError(f"{self.data_dir}: no presets.parquet (build it with `aivj ingest` or `aivj refine build`)")
        if not tiers_are_current(self.data_dir):
            materialize_tiers(self.data_dir)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        if self.data_dir is None or (self.generator is not None and not (self.data_dir / "presets.parquet").exists()):
            self.prepare_data()
        self.presets = PresetTable.load(self.data_dir)
        # Partition pruning: score_bin is a hive partition, so low bins are never read.
        bin_filter = pc.field("score_bin") >= self.hparams.min_score_bin if self.hparams.min_score_bin is not None else None
        names = ["train", *self.val_split_names, *self.test_split_names]
        self.splits = load_splits(self.data_dir, self.presets, list(dict.fromkeys(names)), bin_filter)
        # Cross-corpus runs: train on some collections, test on others (presets' `source` column).
        for allowed, split_names in (
            (self.hparams.train_collections, ("train", "val")),
            (self.hparams.test_collections, ("test_seen", "test_unseen")),
        ):
            if allowed:
                for name in split_names:
                    self.splits[name] = restrict_to_collections(self.splits[name], self.data_dir, list(allowed), name)

    def train_dataloader(self) -> DataLoader:
        train = self.splits["train"]
        elite = np.flatnonzero(train.cols["is_elite"])
        regular = np.flatnonzero(~train.cols["is_elite"])
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        self.train_sampler = EliteDataPrioritySampler(
            elite,
            regular,
            self.hparams.elite_per_batch,
            self.hparams.regular_per_batch,
            seed=self.hparams.seed,
            rank=rank,
            world_size=world,
            groups=self.hparams.batch_groups,
            regular_weights=self._live_weights_of(train, regular) if self.live_weights is not None else None,
        )
        if self.trainer is not None:
            self.train_sampler.set_epoch(self.trainer.current_epoch)
        return self._loader(train, batch_sampler=self.train_sampler)

    def _live_weights_of(self, train: PairSplit, regular: np.ndarray) -> Callable[[], np.ndarray | None]:
        packs = train.keys["pack"].to_numpy(zero_copy_only=False)[regular]
        pairs = train.keys["pair"].to_numpy(zero_copy_only=False)[regular]
        return lambda: self.live_weights(packs, pairs)

    def val_dataloader(self) -> list[DataLoader]:
        return [self.eval_loader(s) for s in self.val_split_names]

    def test_dataloader(self) -> list[DataLoader]:
        return [self.eval_loader(s) for s in self.test_split_names]

    def predict_dataloader(self) -> DataLoader:
        return self.eval_loader("test_unseen")

    def eval_loader(self, split: str) -> DataLoader:
        """Sequential batches of one split (any of them: reports and tools use it too)."""
        data = self.splits[split]
        batches = [
            list(range(i, min(i + self.hparams.eval_batch_size, len(data))))
            for i in range(0, len(data), self.hparams.eval_batch_size)
        ]
        return self._loader(data, batch_sampler=batches)

    def _loader(self, data: PairSplit, batch_sampler: Any) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(
            data,
            batch_sampler=batch_sampler,
            collate_fn=take_batch,
            num_workers=workers,
            persistent_workers=self.hparams.persistent_workers and workers > 0,
        )

    @property
    def batch_size(self) -> int:
        return self.hparams.batch_groups * (self.hparams.elite_per_batch + self.hparams.regular_per_batch)
