"""The feedback settings: conf/feedback/default.yaml with ``key=value`` overrides (OmegaConf, no Hydra)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from aivj.home import project_root

DEFAULT = "conf/feedback/default.yaml"


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> DictConfig:
    path = Path(path) if path else project_root() / DEFAULT
    if not path.is_file():
        raise ValueError(f"{path}: no such feedback config")
    cfg = OmegaConf.load(path)
    unknown = [
        o.split("=", 1)[0]
        for o in overrides
        if "=" not in o or OmegaConf.select(cfg, o.split("=", 1)[0], default=KeyError) is KeyError
    ]
    if unknown:
        raise ValueError(f"{path}: unknown or malformed overrides {unknown} (key=value with a key of the config)")
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
