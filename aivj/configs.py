"""The configs in code: the resolvers they use, a subsystem's config group, and train.py's config composed in-process.

Every module that loads a config registers the resolvers first (``load_group`` does).

``${threshold:golden_pass_rate}`` is the figure of that name in aivj/contract/thresholds.py, so a
gate written in conf/ is the code's gate (change it there, not here). ``${project_root:}`` and
``${state_root:}`` are aivj.home's, the one way the project and its state folder are found.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from aivj.contract.thresholds import THRESHOLDS
from aivj.home import project_root, state_root


def threshold(name: str) -> float:
    if name not in THRESHOLDS:
        raise KeyError(f"${{threshold:{name}}}: no such threshold; known: {', '.join(sorted(THRESHOLDS))}")
    return THRESHOLDS[name]


def register_resolvers() -> None:
    """Idempotent: safe to call from every entry point."""
    resolvers = {
        "threshold": threshold,
        "project_root": lambda: str(project_root()),
        "state_root": lambda: str(state_root()),
        # run folders: two runs started in the same second (the daemon beside a user) get their own
        "pid": lambda: str(os.getpid()),
    }
    for name, fn in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_resolver(name, fn)


class ConfigError(ValueError):
    """A config that cannot be loaded or used; one line naming the file (or the key)."""


def load_group(name: str, path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    """conf/<name>/default.yaml (or ``path``) with ``--set key=value`` overrides of its keys, resolved."""
    register_resolvers()
    path = Path(path) if path else project_root() / "conf" / name / "default.yaml"
    if not path.is_file():
        raise ConfigError(f"{path}: no such {name} config")
    try:
        cfg = OmegaConf.load(path)
    except (OmegaConfBaseException, OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    try:
        for item in overrides:
            key = item.split("=", 1)[0]
            if "=" not in item:
                raise ConfigError(f"--set {item}: expected key=value")
            if OmegaConf.select(cfg, key, default=KeyError, throw_on_missing=False) is KeyError:
                raise ConfigError(f"--set {key}: no such key in {path}")
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
        OmegaConf.resolve(cfg)
    except ConfigError:
        raise
    except (OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    return cfg


def config_options(name: str, config_file: bool = False):
    """A parent parser for a subcommand (``parents=[...]``): the one override style, ``--set key=value`` after the
    subcommand, repeatable; with ``config_file`` also ``--config FILE`` in place of conf/<name>/default.yaml."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    if config_file:
        parser.add_argument("--config", default=None, help=f"{name} config (default: conf/{name}/default.yaml)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help=f"override a conf/{name}/default.yaml entry (repeatable)"
    )
    return parser


def compose_train(overrides: list[str], output_dir: Path | None = None, config_name: str = "train") -> DictConfig:
    """train.py's config for ``overrides`` (hydra node included); ``paths.output_dir`` set when given."""
    # Hydra loads only here: the registry, the loader and the services read configs without it.
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    register_resolvers()
    GlobalHydra.instance().clear()
    try:
        with warnings.catch_warnings():  # Hydra 1.4 warns about version_base whatever is passed (docs/stack.md)
            warnings.filterwarnings("ignore", message=".*version_base parameter.*")
            with initialize_config_dir(config_dir=str(project_root() / "conf"), version_base="1.3"):
                cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()
    HydraConfig.instance().set_config(cfg)  # lets ${hydra:...} resolve in paths.*
    if output_dir is not None:
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir)
    return cfg
