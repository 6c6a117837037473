"""Load the scoring model: a registry version, a checkpoint path, or (default) the registry champion.

The LightningModule class is the one recorded with the version (``model_class`` in meta.json), or
``aivj_model_class`` inside the checkpoint, else ``coupling.module.CouplingLitModule``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from aivj.registry.api import DEFAULT_MODEL_CLASS
from aivj.registry.store import VERSION_RE, Registry


def _import(path: str):
    module, _, name = path.replace(":", ".").rpartition(".")
    return getattr(importlib.import_module(module), name)


def resolve_model(spec: str | None, registry_dir=None) -> tuple[Path, str, str]:
    """(checkpoint path, model class path, label) for VERSION | CKPT | None (the champion)."""
    reg = Registry(registry_dir)
    if spec is None:
        spec = reg.champion()
        if spec is None:
            raise ValueError(f"{reg.root}: no champion in the registry; pass --model VERSION|CKPT")
    if VERSION_RE.match(spec) and not Path(spec).is_file():
        return reg.checkpoint(spec), reg.meta(spec).get("model_class", DEFAULT_MODEL_CLASS), spec
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"{spec}: neither a registry version in {reg.root} nor a checkpoint file")
    return path, "", str(path)


def _from_config(config: Path, ckpt: Path):
    """Build the module from the version's composed config (nets are not in the checkpoint's hparams)."""
    import torch
    from omegaconf import OmegaConf

    from aivj.training import build

    cfg = OmegaConf.load(config)
    if "model" not in cfg:
        return None
    model = build(cfg.model)
    model.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"])
    return model


def load_model(spec: str | None, registry_dir=None):
    import torch

    ckpt, class_path, label = resolve_model(spec, registry_dir)
    config = ckpt.parent / "config.yaml"  # a registry version
    if not config.exists():
        config = ckpt.parent.parent / ".hydra" / "config.yaml"  # a checkpoint inside a train.py run folder
    if config.exists() and config.stat().st_size:
        model = _from_config(config, ckpt)
        if model is not None:
            return model.eval(), label
    if not class_path:
        class_path = torch.load(ckpt, map_location="cpu", weights_only=False).get("aivj_model_class",
                                                                                   DEFAULT_MODEL_CLASS)
    cls = _import(class_path)
    model = cls.load_from_checkpoint(str(ckpt), map_location="cpu")
    model.eval()
    return model, label
