"""The feedback settings: conf/feedback/default.yaml with ``--set key=value`` overrides (aivj.configs.load_group)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from aivj.configs import load_group


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    return load_group("feedback", path, overrides)


def store_url(cfg: DictConfig) -> str:
    """The store's SQLAlchemy URL: the config's, else SQLite in the feedback service's home."""
    from aivj.feedback.store import default_url
    from aivj.services.settings import ServiceSettings

    return cfg.store_url or default_url(ServiceSettings(name="feedback").home())
