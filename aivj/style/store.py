"""The style models' registry: a model family of its own, in its own folder, with the registry's own store.

``$AIVJ_STYLE_REGISTRY``, else ``$AIVJ_HOME/registry/style`` (``aivj.home.state_dir("registry")``):
``aivj.registry.store.Registry`` with its layout (versions, ``champion`` pointer, history, sha256 of
every file) but its own champion, so a style model never competes with a coupling model and
``aivj registry list`` (which lists only ``v*`` folders) does not show it; ``aivj registry --dir
var/registry/style list`` does. The promotion rule: a candidate becomes champion when there is none
or the ``val/loss`` of its best checkpoint is lower than the champion's (the track-level F1 of a
generated val split saturates at 1.0, so it cannot tell two good runs apart).

``RegisterStyleModel`` is the training callback that registers a run after its test (with the
validation figures of its best checkpoint, which the test run clears from the trainer);
``load_style_model`` reads a version, a checkpoint or the champion without running pickled code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import lightning as L

from aivj.home import state_dir
from aivj.registry.store import Registry, RegistryError

CHAMPION = "champion"
VAL_METRIC = "val/loss"  # of the best checkpoint (the monitored figure); lower is better


def style_registry(root: str | os.PathLike | None = None) -> Registry:
    root = root or os.environ.get("AIVJ_STYLE_REGISTRY") or state_dir("registry") / "style"
    return Registry(root, shipped=None)


def register(
    ckpt: str | Path, metrics: dict, labels: list[str], data: str, run_dir: str = "", root=None, promote: bool = True
) -> tuple[str, bool, str]:
    """(version, promoted, reason)."""
    registry = style_registry(root)
    fingerprint = "style-" + hashlib.sha256(json.dumps(labels).encode()).hexdigest()[:12]  # one champion per label set
    meta = {"family": "style", "labels": labels, "data": str(data), "data_fingerprint": fingerprint, "run_dir": str(run_dir)}
    meta["val_metric"] = metrics.get(VAL_METRIC)
    files = {"metrics.json": json.dumps(metrics, indent=2, sort_keys=True) + "\n", "labels.json": json.dumps(labels) + "\n"}
    version = registry.add_version(Path(ckpt), files, meta)
    champion = registry.champion_for(fingerprint)
    if not promote:
        return version, False, "promotion off"
    if champion is None:
        reason = "no style champion yet"
    else:
        old, new = registry.metrics(champion).get(VAL_METRIC), metrics.get(VAL_METRIC)
        if new is None or (old is not None and new >= old):
            return version, False, f"{VAL_METRIC} {new} does not beat the champion {champion}'s {old}"
        reason = f"{VAL_METRIC} {new:.4f} beats {champion}'s {old}"
    registry.set_champion(version, reason)
    return version, True, reason


class RegisterStyleModel(L.Callback):
    """After the test: the best checkpoint and every final metric into the style registry (rank 0 only)."""

    def __init__(self, dir: str | None = None, promote: bool = True) -> None:
        self.dir, self.promote = dir, promote
        self.fit_metrics: dict[str, float] = {}

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # the test clears the validation figures: keep them, and the best checkpoint's monitored one
        self.fit_metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        for cb in trainer.checkpoint_callbacks:
            if cb.monitor and cb.best_model_score is not None:
                self.fit_metrics[cb.monitor] = float(cb.best_model_score)

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        best = next((cb.best_model_path for cb in trainer.checkpoint_callbacks if cb.best_model_path), "")
        if not trainer.is_global_zero or not best:
            return
        metrics = {**self.fit_metrics, **{k: float(v) for k, v in trainer.callback_metrics.items()}}
        data = getattr(trainer.datamodule, "data_dir", "") if trainer.datamodule is not None else ""
        version, promoted, reason = register(
            best, metrics, list(pl_module.hparams.labels), data, trainer.default_root_dir, self.dir, self.promote
        )
        print(f"style registry: {version} {'promoted' if promoted else 'kept as a candidate'} ({reason})")


def resolve_checkpoint(spec: str | None, root=None) -> tuple[Path, str]:
    """(checkpoint, label) for a version, a checkpoint path or the champion."""
    registry = style_registry(root)
    if spec in (None, CHAMPION):
        version = registry.champion()
        if version is None:
            raise RegistryError(f"{registry.root}: no style champion yet (train one: aivj style train)")
        return registry.checkpoint(version), version
    if Path(spec).is_file():
        return Path(spec), str(spec)
    return registry.checkpoint(spec), spec


def load_style_model(spec: str | None = CHAMPION, root=None):
    """(StyleModule in eval mode, label); the checkpoint is read weights-only."""
    from aivj.inference.checkpoint import read_checkpoint
    from aivj.style.module import StyleModule

    ckpt, label = resolve_checkpoint(spec, root)
    state = read_checkpoint(ckpt)
    if "hyper_parameters" not in state or "labels" not in state["hyper_parameters"]:
        raise ValueError(f"{ckpt}: not a style model checkpoint (no labels in its hyperparameters)")
    model = StyleModule(**state["hyper_parameters"])
    model.load_state_dict(state["state_dict"])
    return model.eval(), label
