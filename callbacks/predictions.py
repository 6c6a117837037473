"""Predicted scores of a validation batch, as the gates see them.

``validation_step`` may return a dict with ``pred`` (the render path's); otherwise, and always for the
static path (has_render forced to 0 on both layers), the net is run again under no_grad (the model is
already in eval mode during validation). Also maps split names to dataloader indices
through the datamodule's ``val_split_names``.
"""

from __future__ import annotations

import torch

from datamodules.schema import ELITE_SCORE, NEGATIVE_SCORE, PASS_THRESHOLD


def batch_predictions(pl_module, outputs, batch, path: str = "render") -> torch.Tensor:
    from coupling.module import path_batch

    if path == "render" and isinstance(outputs, dict) and outputs.get("pred") is not None:
        return outputs["pred"].detach().float().flatten().cpu()
    with torch.no_grad():
        return pl_module.net(path_batch(batch, path))["score"].detach().float().flatten().cpu()


def split_index(trainer, split: str, default: int) -> int:
    names = getattr(getattr(trainer, "datamodule", None), "val_split_names", None)
    if names and split in names:
        return list(names).index(split)
    return default


def golden_pass_rate(pred: torch.Tensor, score: torch.Tensor) -> float:
    """Positives (score >= 4) pass when predicted >= 3, negatives (score <= 2) when predicted < 3."""
    pos, neg = score >= ELITE_SCORE, score <= NEGATIVE_SCORE
    passed = (pos & (pred >= PASS_THRESHOLD)) | (neg & (pred < PASS_THRESHOLD))
    judged = pos | neg
    return float(passed[judged].float().mean()) if judged.any() else float("nan")
