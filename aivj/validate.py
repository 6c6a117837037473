"""Config checks train.py and eval.py run before building anything: one line naming the key or file.

A value Hydra passes through as text (``trainer.max_epochs=abc``) or a count that cannot work
(``data.elite_per_batch=-1``) would otherwise fail minutes later, deep in Lightning or NumPy, with
an error that names neither. ``check_config`` raises ``ConfigError``; ``exit_on_bad_config`` prints
it as one line and exits 2 (``AIVJ_DEBUG=1`` keeps the traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from omegaconf import DictConfig

EXIT_BAD_INPUT = 2
# key -> smallest allowed value; None/null is allowed wherever Lightning or the datamodule allow it
_TRAINER_INTS = {"max_epochs": -1, "min_epochs": 0, "max_steps": -1, "check_val_every_n_epoch": 1,
                 "log_every_n_steps": 1, "accumulate_grad_batches": 1}
_TRAINER_FRACTIONS = ("limit_train_batches", "limit_val_batches", "limit_test_batches", "val_check_interval")
_DATA_INTS = {"elite_per_batch": 0, "regular_per_batch": 0, "eval_batch_size": 1, "num_workers": 0, "min_score_bin": 0}


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


def check_parquet(path: Path) -> None:
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) for a torn footer
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not a readable Parquet file ({first})") from None


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
    for path in [presets, *sorted((folder / "pairs").rglob("*.parquet"))]:
        check_parquet(path)


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
    from aivj.inference.checkpoint import read_checkpoint

    try:
        read_checkpoint(Path(path))
    except ValueError as exc:
        raise ConfigError(f"{key}={exc}") from None


def check_config(cfg: DictConfig) -> None:
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
