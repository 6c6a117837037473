"""The daemon's config: conf/daemon/default.yaml with ``--set key=value`` overrides (aivj.configs.load_group), checked once."""

from __future__ import annotations

import os
import re
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from aivj.configs import ConfigError, load_group

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


DaemonConfigError = ConfigError  # the one config error type; the name kept for the daemon's callers


def load_config(overrides: list[str] | None = None, path: Path | None = None) -> DictConfig:
    cfg = load_group("daemon", path, list(overrides or []))
    check(cfg)
    return cfg


def check(cfg: DictConfig) -> None:
    for key in ("schedule.interval_seconds", "schedule.settle_seconds", "failures.alert_after", "reports.keep"):
        value = OmegaConf.select(cfg, key)
        if not isinstance(value, (int, float)) or value < 0:
            raise DaemonConfigError(f"daemon config {key}={value!r}: must be a number >= 0")
    if cfg.schedule.window is not None and not _WINDOW.match(str(cfg.schedule.window)):
        raise DaemonConfigError(f"daemon config schedule.window={cfg.schedule.window!r}: must be HH:MM-HH:MM")
    if not 0 <= float(cfg.train.replay_ratio) <= 100:
        raise DaemonConfigError(f"daemon config train.replay_ratio={cfg.train.replay_ratio}: must be in [0, 100]")
    missing = [str(r) for r in cfg.roots if not Path(str(r)).is_dir()]
    if missing:
        raise DaemonConfigError(f"daemon config roots: no such folder: {', '.join(missing)}")


def registry_dir(cfg: DictConfig) -> Path | None:
    return Path(str(cfg.registry_dir)) if cfg.registry_dir else None


def in_window(window: str | None, hour: int, minute: int) -> bool:
    """Whether local time hour:minute lies in "HH:MM-HH:MM" (a window may wrap midnight)."""
    if not window:
        return True
    m = _WINDOW.match(window)
    start, end, now = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4]), hour * 60 + minute
    return start <= now < end if start <= end else now >= start or now < end


def secret(name: str) -> str | None:
    """A credential from the environment (never from a config file)."""
    value = os.environ.get(name, "").strip()
    return value or None
