"""The stream's settings: conf/stream/default.yaml with ``--set key=value`` overrides (aivj.configs.load_group)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from aivj.configs import load_group
from aivj.home import state_dir


def load(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    return load_group("stream", path, overrides)


def log_dir(cfg: DictConfig) -> Path:
    return Path(cfg.log_dir) if cfg.log_dir else state_dir("stream") / "logs"
