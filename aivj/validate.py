"""Config checks train.py and eval.py run before building anything: one line naming the key or file.

A value Hydra passes through as text (``trainer.max_epochs=abc``) or a count that cannot work
(``data.elite_per_batch=-1``) would otherwise fail minutes later, deep in Lightning or NumPy, with
an error that names neither. ``check_config`` raises ``ConfigError``; ``exit_on_bad_config`` prints
it as one line and exits 2 (``AIVJ_DEBUG=1`` keeps the traceback).
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from aivj.configs import compose_train
from aivj.contract import trusted
from aivj.contract.layout import LayoutError, check_parquet
from aivj.inference.build import BuildError, import_target
from aivj.inference.checkpoint import read_checkpoint

EXIT_BAD_INPUT = 2
# key -> smallest allowed value; None/null is allowed wherever Lightning or the datamodule allow it
_TRAINER_INTS = {
    "max_epochs": -1,
    "min_epochs": 0,
    "max_steps": -1,
    "check_val_every_n_epoch": 1,
    "log_every_n_steps": 1,
    "accumulate_grad_batches": 1,
}
_TRAINER_FRACTIONS = ("limit_train_batches", "limit_val_batches", "limit_test_batches", "val_check_interval")
_DATA_INTS = {
    "elite_per_batch": 0,
    "regular_per_batch": 0,
    "batch_groups": 1,
    "eval_batch_size": 1,
    "num_workers": 0,
    "min_score_bin": 0,
}


class ConfigError(ValueError):
    """A config value or a file it names that cannot work; the message is one line."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_ints(section: DictConfig, prefix: str, minimums: dict[str, int]) -> None:
    for key, low in minimums.items():
        value = section.get(key)
        if value is None:
            continue
        if not _is_int(value):
            raise ConfigError(f"{prefix}.{key}={value!r}: expected a whole number")
        if value < low:
            raise ConfigError(f"{prefix}.{key}={value}: must be {low} or more")


def check_trainer(trainer: DictConfig) -> None:
    _check_ints(trainer, "trainer", _TRAINER_INTS)
    for key in _TRAINER_FRACTIONS:
        value = trainer.get(key)
        if value is not None and (not _is_number(value) or value < 0):
            raise ConfigError(f"trainer.{key}={value!r}: expected a fraction (0-1) or a batch count")
    clip = trainer.get("gradient_clip_val")
    if clip is not None and (not _is_number(clip) or clip < 0):
        raise ConfigError(f"trainer.gradient_clip_val={clip!r}: expected a number >= 0 or null")


def check_dataset(data_dir: str | os.PathLike) -> None:
    """The folder exists and every Parquet file in it has a readable footer (a truncated copy does not)."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise ConfigError(f"data.data_dir={data_dir}: no such dataset folder")
    presets = folder / "presets.parquet"
    if not presets.is_file():
        raise ConfigError(f"data.data_dir={data_dir}: no presets.parquet (build it with `aivj ingest` or `aivj refine build`)")
    if not (folder / "pairs").is_dir():
        raise ConfigError(f"data.data_dir={data_dir}: no pairs/ dataset")
    try:
        for path in [presets, *sorted((folder / "pairs").rglob("*.parquet"))]:
            check_parquet(path)
    except LayoutError as exc:
        raise ConfigError(str(exc)) from None


def check_data(data: DictConfig) -> None:
    _check_ints(data, "data", _DATA_INTS)
    per_batch = (data.get("elite_per_batch") or 0) + (data.get("regular_per_batch") or 0)
    if "elite_per_batch" in data and per_batch < 1:
        raise ConfigError("data.elite_per_batch + data.regular_per_batch: a training batch needs at least one pair")
    if data.get("data_dir") is not None:
        check_dataset(data.data_dir)


def check_checkpoint_path(cfg: DictConfig, key: str = "ckpt_path") -> None:
    path = cfg.get(key)
    if path is None:
        return
    if not isinstance(path, str) or not Path(path).is_file():
        raise ConfigError(f"{key}={path}: no such checkpoint file" + (" (a folder)" if Path(str(path)).is_dir() else ""))
    try:
        read_checkpoint(Path(path))
    except ValueError as exc:
        raise ConfigError(f"{key}={exc}") from None


# Figures that are rates (0-1) wherever a config sets them.
_RATES = ("callbacks.golden_gate.threshold", "registry.golden_threshold", "registry.tolerance")
_RESERVED = {"_target_", "_args_", "_partial_", "_recursive_", "_convert_"}


def _target_nodes(node, path: str = ""):
    if isinstance(node, dict):
        if "_target_" in node:
            yield path, node
        for key, value in node.items():
            yield from _target_nodes(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _target_nodes(value, f"{path}[{i}]")


def check_targets(cfg: DictConfig) -> None:
    """Every ``_target_`` (Hydra's own node aside) is in the trusted packages and takes every key its node sets."""
    tree = OmegaConf.to_container(cfg, resolve=False)
    tree.pop("hydra", None)
    for path, node in _target_nodes(tree):
        target = node["_target_"]
        if not trusted.is_trusted(target):
            raise ConfigError(f"{path}._target_={target}: outside the trusted packages ({', '.join(trusted.TRUSTED_TARGETS)})")
        try:
            params = inspect.signature(import_target(target)).parameters
        except (BuildError, TypeError, ValueError) as exc:  # a builtin without a signature is not checked further
            if isinstance(exc, BuildError):
                raise ConfigError(f"{path}._target_={exc}") from None
            continue
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            continue
        unknown = sorted(set(node) - _RESERVED - set(params))
        if unknown:
            raise ConfigError(f"{path}.{unknown[0]}: {target} takes no such argument (it takes {', '.join(params)})")


def check_thresholds(cfg: DictConfig) -> None:
    """Gates that are rates lie in [0, 1]; the drift threshold is a positive KL."""
    keys = [
        *_RATES,
        *(f"callbacks.golden_gate.thresholds.{p}" for p in (OmegaConf.select(cfg, "callbacks.golden_gate.thresholds") or {})),
    ]
    for key in keys:
        value = OmegaConf.select(cfg, key)
        if value is not None and (not _is_number(value) or not 0.0 <= value <= 1.0):
            raise ConfigError(f"{key}={value!r}: a rate must lie in [0, 1]")
    kl = OmegaConf.select(cfg, "callbacks.drift_monitor.threshold")
    if kl is not None and (not _is_number(kl) or kl <= 0):
        raise ConfigError(f"callbacks.drift_monitor.threshold={kl!r}: a KL threshold must be > 0")


def check_config(cfg: DictConfig) -> None:
    check_targets(cfg)
    check_thresholds(cfg)
    if cfg.get("trainer") is not None:
        check_trainer(cfg.trainer)
    if cfg.get("data") is not None:
        check_data(cfg.data)
    check_checkpoint_path(cfg)


def fail(program: str, exc: ConfigError) -> None:
    """Print ``exc`` as one line and exit 2; with AIVJ_DEBUG=1 re-raise it for the traceback."""
    if os.environ.get("AIVJ_DEBUG", "") not in ("", "0"):
        raise exc
    print(f"{program}: {exc}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def exit_on_bad_config(cfg: DictConfig, program: str) -> None:
    try:
        check_config(cfg)
    except ConfigError as exc:
        fail(program, exc)


def main(argv: list[str] | None = None) -> int:
    """``aivj validate [--config train|eval] [OVERRIDE ...]``: compose the config and check it, running nothing."""
    p = argparse.ArgumentParser(prog="aivj validate", description=main.__doc__.splitlines()[0])
    p.add_argument("--config", default="train", choices=("train", "eval"), help="which entry point's config (default train)")
    p.add_argument("overrides", nargs="*", help="Hydra overrides, as train.py takes them")
    args = p.parse_args(argv)
    try:
        cfg = compose_train(args.overrides, config_name=args.config)
        check_config(cfg)
    except ConfigError as exc:
        print(f"aivj validate: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - Hydra's errors for an unknown key or group are many types
        print(f"aivj validate: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"aivj validate: the {args.config} config with {len(args.overrides)} override(s) checks out")
    return 0
