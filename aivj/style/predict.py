"""A whole file's style: every window through the model, the probabilities averaged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from aivj.style.audio import load_audio
from aivj.style.features import FeatureSpec, windows


@dataclass
class FileStyle:
    path: Path
    labels: list[str]
    window_probs: np.ndarray  # [windows, labels]

    @property
    def probs(self) -> np.ndarray:
        return self.window_probs.mean(axis=0)

    @property
    def style(self) -> str:
        return self.labels[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probs))


@torch.no_grad()
def window_probs(model, mel: np.ndarray, live: np.ndarray, batch: int = 64) -> np.ndarray:
    out = []
    for i in range(0, len(mel), batch):
        logits = model(torch.from_numpy(mel[i : i + batch]), torch.from_numpy(live[i : i + batch]))
        out.append(logits.softmax(-1).numpy())
    return np.concatenate(out)


def predict_file(model, path: str | Path, spec: FeatureSpec | None = None) -> FileStyle:
    """AudioError (one line naming the file) when it cannot be decoded."""
    spec = spec or FeatureSpec(**model.hparams.spec)
    mel, live = windows(load_audio(path, spec.sample_rate), spec)
    return FileStyle(Path(path), list(model.hparams.labels), window_probs(model, mel, live))
