"""Load the scoring model: a registry version, a checkpoint path, or (default) the registry champion.

A version's composed config builds the module (``aivj.inference.build``: trusted targets only, no
Hydra), then the checkpoint's weights go in; no Trainer is involved.

The LightningModule class is the one recorded with the version (``model_class`` in meta.json), or
``aivj_model_class`` inside the checkpoint, else ``coupling.module.CouplingLitModule``; only classes of
this project's packages are imported. Checkpoints load with ``torch.load(weights_only=True)``: a file
that needs arbitrary Python objects to unpickle is refused before any of it runs (docs/errors.md).
"""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch.core.saving import _load_state
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from aivj.contract import trusted
from aivj.inference.build import BuildError, build_trusted, import_target
from aivj.inference.checkpoint import read_checkpoint
from aivj.registry.api import DEFAULT_MODEL_CLASS
from aivj.registry.store import VERSION_RE, Registry, RegistryError, read_json


def resolve_model(spec: str | None, registry_dir=None) -> tuple[Path, str, str]:
    """(checkpoint path, model class path, label) for VERSION | CKPT | None (the champion)."""
    reg = Registry(registry_dir)
    if spec is None:
        spec = reg.default_champion()  # the writable registry's, else the shipped one (models/)
        if spec is None:
            raise ValueError(f"{reg.root}: no champion in the registry nor a shipped one; pass --model VERSION|CKPT")
    if VERSION_RE.match(spec) and not Path(spec).is_file():
        return reg.checkpoint(spec), reg.meta(spec).get("model_class", DEFAULT_MODEL_CLASS), spec
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"{spec}: neither a registry version in {reg.root} nor a checkpoint file")
    return path, "", str(path)


def check_checkpoint(path: Path) -> dict:
    """The checkpoint dict, read without running code; ValueError (one line) when it is not one."""
    return read_checkpoint(path)


def _apply_weights(model, ckpt: Path, state: dict):
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise ValueError(f"{ckpt}: weights do not fit the model its config builds ({first})") from None
    return model


def _from_config(config: Path, ckpt: Path, checkpoint: dict):
    """Build the module from the version's composed config (nets are not in the checkpoint's hparams)."""
    try:
        cfg = OmegaConf.load(config)
    except Exception as exc:  # noqa: BLE001 - YAML and OmegaConf raise many types for a bad file
        raise ValueError(f"{config}: not a readable config ({type(exc).__name__})") from None
    if not hasattr(cfg, "get") or "model" not in cfg:
        return None
    try:
        model = build_trusted(OmegaConf.to_container(cfg.model, resolve=True))
    except (BuildError, OmegaConfBaseException) as exc:
        raise ValueError(f"{config}: its model section does not build ({str(exc).strip().splitlines()[0][:200]})") from None
    return _apply_weights(model, ckpt, checkpoint["state_dict"])


def _model_class(class_path: str):
    if not trusted.is_project_class(class_path):
        raise ValueError(f"model class {class_path!r}: not one of this project's modules ({', '.join(trusted.PROJECT_PACKAGES)})")
    try:
        return import_target(class_path)
    except BuildError as exc:
        raise ValueError(f"model class {exc}") from None


def load_model(spec: str | None, registry_dir=None):
    ckpt, class_path, label = resolve_model(spec, registry_dir)
    checkpoint = check_checkpoint(ckpt)
    config = ckpt.parent / "config.yaml"  # a registry version
    if not config.exists():
        config = ckpt.parent.parent / ".hydra" / "config.yaml"  # a checkpoint inside a train.py run folder
    if config.is_file() and config.stat().st_size:
        model = _from_config(config, ckpt, checkpoint)
        if model is not None:
            return model.eval(), label
    cls = _model_class(class_path or checkpoint.get("aivj_model_class", DEFAULT_MODEL_CLASS))
    try:
        model = _load_state(cls, checkpoint)  # load_from_checkpoint on the dict already read
    except (RuntimeError, KeyError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{ckpt}: cannot build {cls.__name__} from it ({first})") from None
    model.eval()
    return model, label


def checkpoint_metrics(ckpt: Path) -> tuple[dict | None, Path | None]:
    """A checkpoint's recorded figures: metrics.json beside it (a registry-style folder) or in its run folder."""
    for candidate, nested in ((ckpt.parent / "metrics.json", False), (ckpt.parent.parent / "metrics.json", True)):
        if candidate.is_file():
            doc = read_json(candidate, "metrics")
            metrics = doc.get("metrics") if nested or "metrics" in doc else doc
            if not isinstance(metrics, dict):
                raise RegistryError(f"{candidate}: 'metrics' is not a JSON object")
            return metrics, candidate
    return None, None


def recorded_metrics(ckpt: Path, label: str, registry_dir=None) -> tuple[dict | None, Path | None]:
    """(figures, their file) of what ``resolve_model`` resolved: a version's metrics.json, else the checkpoint's."""
    if VERSION_RE.match(label) and not Path(label).is_file():
        reg = Registry(registry_dir)
        return reg.metrics(label), reg.path(label) / "metrics.json"
    return checkpoint_metrics(Path(ckpt))
