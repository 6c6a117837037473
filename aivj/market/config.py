"""The market's settings: conf/market/default.yaml with ``key=value`` overrides (OmegaConf, no Hydra)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from aivj.configs import register_resolvers
from aivj.home import project_root, state_dir

DEFAULT = "conf/market/default.yaml"


def load(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    """The config at ``path`` (default conf/market/default.yaml) with dotlist ``overrides`` merged on top."""
    register_resolvers()
    path = Path(path) if path else project_root() / DEFAULT
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such market config")
    cfg = OmegaConf.load(path)
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise ValueError(f"--set {bad[0]}: expected key=value")
    unknown = [o.split("=", 1)[0] for o in overrides if OmegaConf.select(cfg, o.split("=", 1)[0], default=KeyError) is KeyError]
    if unknown:
        raise ValueError(f"--set {unknown[0]}: no such key in {path}")
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))


def store_dir(cfg: DictConfig) -> Path:
    return Path(cfg.store) if cfg.store else state_dir("services") / "market"


def frame_cache_root(cfg: DictConfig) -> Path:
    from aivj.refinery.cache import default_root

    return Path(cfg.frame_cache) if cfg.frame_cache else default_root()
