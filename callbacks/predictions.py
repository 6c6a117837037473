"""Predicted scores of a validation batch, as the gates see them.

``validation_step`` may return a dict with ``pred`` (the render path's); otherwise, and always for the
static path (has_render forced to 0 on both layers), the net is run again under no_grad (the model is
already in eval mode during validation). Also maps split names to dataloader indices
through the datamodule's ``val_split_names``.
"""

from __future__ import annotations

import torch

from aivj.contract.batch import path_batch
from aivj.contract.thresholds import golden_pass_rate as _golden_pass_rate


def batch_predictions(pl_module, outputs, batch, path: str = "render") -> torch.Tensor:
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
    """The golden rule of aivj.contract.thresholds on a validation split's tensors."""
    return _golden_pass_rate(pred, score)
