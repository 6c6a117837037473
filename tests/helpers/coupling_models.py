"""Small real coupling nets (DualLayerCouplingNetwork with a coupling head) saved as checkpoints that
``load_scorer`` loads from their ``config.yaml``, with figures that pass both scoring paths' gates."""

from __future__ import annotations

import json
from pathlib import Path

import lightning
import torch
import yaml

from tests.helpers.tiny_versions import PASSING

NET = {
    "_target_": "coupling.nets.coupling_net.DualLayerCouplingNetwork",
    "dim": 16,
    "heads": 2,
    "hidden": 32,
    "render_predictor": True,
    "coupling_head": True,
}
MODEL = {
    "_target_": "coupling.module.CouplingLitModule",
    "net": NET,
    "loss": {"_target_": "coupling.losses.ReweightedCouplingLoss"},
}


def build(coupling_head: bool = True, seed: int = 0):
    from coupling.losses import ReweightedCouplingLoss
    from coupling.module import CouplingLitModule
    from coupling.nets.coupling_net import DualLayerCouplingNetwork

    torch.manual_seed(seed)
    kw = {k: v for k, v in NET.items() if k != "_target_"} | {"coupling_head": coupling_head}
    return CouplingLitModule(DualLayerCouplingNetwork(**kw), ReweightedCouplingLoss()).eval()


def save(module, folder: Path, coupling_head: bool = True) -> Path:
    """``folder/model.ckpt`` + ``config.yaml`` + ``metrics.json``; returns the checkpoint path."""
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = folder / "model.ckpt"
    torch.save({"state_dict": module.state_dict(), "pytorch-lightning_version": lightning.__version__, "epoch": 0}, ckpt)
    model = json.loads(json.dumps(MODEL))
    model["net"]["coupling_head"] = coupling_head
    (folder / "config.yaml").write_text(yaml.safe_dump({"model": model}))
    (folder / "metrics.json").write_text(json.dumps(PASSING))
    return ckpt
