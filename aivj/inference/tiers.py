"""Score the materialised regression tiers (fast set, golden set) with a model, without a Trainer, on a scoring path.

The golden pass rate is the contract's rule (aivj.contract.thresholds); pairwise accuracy is the training
metric itself (coupling.metrics), so the tier and the logs cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch

from aivj.contract.batch import path_batch
from aivj.contract.thresholds import ELITE_SCORE, golden_pass_rate
from coupling.metrics import PairwiseAccuracy
from datamodules.pairs import PairSplit, PresetTable


def tier_split(data_dir: Path, name: str, presets: PresetTable) -> PairSplit:
    t = pq.read_table(Path(data_dir) / "regression" / f"{name}.parquet")
    cols = {
        "fg_idx": presets.index_of(t["fg_id"], f"{data_dir}/regression/{name}.parquet fg_id"),
        "bg_idx": presets.index_of(t["bg_id"], f"{data_dir}/regression/{name}.parquet bg_id"),
        "score": t["score"].to_numpy().astype(np.float32),
    }
    n = len(cols["score"])
    cols.update(
        rank01=np.zeros(n, np.float32),
        spatial=np.full(n, np.nan, np.float32),
        temporal=np.full(n, np.nan, np.float32),
        is_elite=cols["score"] >= ELITE_SCORE,
    )
    return PairSplit(presets, cols)


@torch.no_grad()
def predict(model, split: PairSplit, batch_size: int = 4096, path: str = "render") -> np.ndarray:
    """Scores on a scoring path: ``render`` as the presets come, ``static`` with has_render = 0 on both layers."""
    model.eval()
    out = [
        model(path_batch(split.__getitems__(list(range(i, min(i + batch_size, len(split))))), path))["score"].float().numpy()
        for i in range(0, len(split), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def pairwise_accuracy(pred: np.ndarray, true: np.ndarray) -> float:
    metric = PairwiseAccuracy()
    metric.update(torch.from_numpy(pred), torch.from_numpy(true))
    return float(metric.compute())


__all__ = ["tier_split", "predict", "pairwise_accuracy", "golden_pass_rate"]
