"""``StyleDataModule``: labelled audio as log-mel windows (+ live features), split by track.

Training draws ``windows_per_track`` random crops of each training track per epoch, with
SpecAugment-style masks; validation and test read every window of each track (hop
``spec.window_hop``) and carry the track index, so the module reports track-level figures too.
Files that cannot be decoded are set aside with a one-line reason; the counts reconcile
(``files in == used + set aside``) and are logged once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from aivj.style import DEFAULT_LABELS
from aivj.style.audio import AudioError, load_audio
from aivj.style.features import FeatureSpec, Frames, crop, frames, window_starts
from aivj.style.tracks import Track, list_tracks

log = logging.getLogger(__name__)


class _Windows(Dataset):
    def __init__(self, feats: list[Frames], tracks: list[Track], spec: FeatureSpec, index: list[tuple[int, int]], augment, chain):
        self.feats, self.tracks, self.spec, self.index, self.augment, self.chain = feats, tracks, spec, index, augment, chain

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        t, start = self.index[i]
        fr = self.feats[t]
        if start < 0:  # a random crop, drawn here so every epoch sees other windows
            start = int(np.random.randint(0, max(1, fr.count - self.spec.window_frames + 1)))
        mel, live = crop(fr, start, self.spec)
        if self.augment:
            mel = _mask(mel.copy(), self.chain)
        return {"mel": torch.from_numpy(mel), "live": torch.from_numpy(live), "label": self.tracks[t].label, "track": t}


def _mask(mel: np.ndarray, chain: bool) -> np.ndarray:
    """SpecAugment masks, and what a recording chain the generator lacks would do to the window."""
    fill = float(mel.mean())
    f0, fw = np.random.randint(0, mel.shape[0]), np.random.randint(0, 9)
    t0, tw = np.random.randint(0, mel.shape[1]), np.random.randint(0, 17)
    mel[f0 : f0 + fw] = fill
    mel[:, t0 : t0 + tw] = fill
    if chain and np.random.random() < 0.5:  # a tilt of up to +-6 dB across the bands (EQ, speakers, mastering)
        mel += (np.linspace(-1, 1, mel.shape[0]) * np.random.uniform(-6, 6))[:, None].astype(mel.dtype)
    if chain and np.random.random() < 0.3:  # a band-limited source: a low-bitrate codec cuts the top bands
        mel[np.random.randint(mel.shape[0] * 5 // 8, mel.shape[0]) :] = mel.min()
    return mel


class StyleDataModule(L.LightningDataModule):
    def __init__(
        self,
        root: str | None = None,
        csv: str | None = None,
        labels: list[str] | tuple[str, ...] = DEFAULT_LABELS,
        generate: dict | None = None,
        spec: dict | None = None,
        batch_size: int = 32,
        windows_per_track: int = 8,
        val_fraction: float = 0.15,
        test_fraction: float = 0.15,
        augment: bool = True,
        chain_augment: bool = True,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.root, self.csv, self.labels, self.generate = root, csv, list(labels), dict(generate or {})
        self.spec = FeatureSpec(**(spec or {}))
        self.batch_size, self.windows_per_track, self.num_workers = batch_size, windows_per_track, num_workers
        self.augment, self.chain_augment = augment, chain_augment
        self.fractions = (val_fraction, test_fraction)
        self.tracks: list[Track] = []
        self.feats: list[Frames] = []
        self.set_aside: list[str] = []
        self.data_dir = root or csv  # what the run records as its data

    def prepare_data(self) -> None:
        """A generated corpus is written once (deterministic, kept while its parameters match)."""
        if self.generate and self.root and self.csv is None:
            from aivj.style.generate import generate_corpus

            generate_corpus(Path(self.root), self.labels, sample_rate=self.spec.sample_rate, **self.generate)

    def setup(self, stage: str | None = None) -> None:
        if self.tracks:
            return
        from rich.progress import track as progress

        tracks, notes = list_tracks(self.root, self.csv, self.labels, *self.fractions)
        files_in = len(tracks)
        for t in progress(tracks, description=f"style features ({files_in} files)", transient=True):
            try:
                self.feats.append(frames(load_audio(t.path, self.spec.sample_rate), self.spec))
                self.tracks.append(t)
            except AudioError as exc:
                self.set_aside.append(str(exc))
        for line in notes + self.set_aside:
            log.warning("style data: %s", line)
        counts = {s: sum(t.split == s for t in self.tracks) for s in ("train", "val", "test")}
        log.info(
            "style data: %d files in, %d used (train %d, val %d, test %d), %d set aside",
            files_in,
            len(self.tracks),
            *counts.values(),
            len(self.set_aside),
        )
        if not counts["train"]:
            raise ValueError(f"{self.root or self.csv}: no training track could be read ({len(self.set_aside)} set aside)")

    def split_tracks(self, split: str) -> list[int]:
        return [i for i, t in enumerate(self.tracks) if t.split == split]

    def _eval_index(self, split: str) -> list[tuple[int, int]]:
        return [(i, s) for i in self.split_tracks(split) for s in window_starts(self.feats[i].count, self.spec)]

    def _loader(self, index, augment: bool, shuffle: bool) -> DataLoader:
        data = _Windows(self.feats, self.tracks, self.spec, index, augment, augment and self.chain_augment)
        return DataLoader(data, batch_size=self.batch_size, shuffle=shuffle, num_workers=self.num_workers)

    def train_dataloader(self) -> DataLoader:
        index = [(i, -1) for i in self.split_tracks("train") for _ in range(self.windows_per_track)]
        return self._loader(index, self.augment, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        # a folder too small for a val split validates on its training tracks (said in the log above)
        return self._loader(self._eval_index("val") or self._eval_index("train"), False, False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self._eval_index("test") or self._eval_index("val") or self._eval_index("train"), False, False)
