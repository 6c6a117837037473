"""The market's settings: conf/market/default.yaml with ``--set key=value`` overrides (aivj.configs.load_group)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from aivj.configs import load_group
from aivj.home import state_dir


def load(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    return load_group("market", path, overrides)


def store_dir(cfg: DictConfig) -> Path:
    return Path(cfg.store) if cfg.store else state_dir("services") / "market"


def frame_cache_root(cfg: DictConfig) -> Path:
    from aivj.refinery.cache import default_root

    return Path(cfg.frame_cache) if cfg.frame_cache else default_root()
