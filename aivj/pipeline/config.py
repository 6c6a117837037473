"""Config checks for the pipeline: compose train.py's config in-process, without running anything.

Composing catches unknown groups and keys the way ``train.py`` would; the search space keys of the
chosen ``hparams_search`` config are checked against the composed model and data configs, so a sweep
over ``model.net.heads`` cannot start with ``model=mlp``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from aivj.configs import compose_train  # noqa: F401  (the stages compose through this module)
from aivj.home import project_root

ROOT = project_root()
CONF = ROOT / "conf"
# Hydra 1.4 warns about version_base whatever is passed (docs/stack.md).
warnings.filterwarnings("ignore", message=".*version_base parameter.*")


def searched_model(search_config: str, overrides: list[str], output_dir: Path) -> str:
    """The model config a search config selects (mlp_optuna selects model=mlp): the final run uses it too."""
    cfg = compose_train([f"hparams_search={search_config}", *overrides], output_dir)
    return str(cfg.hydra.runtime.choices["model"])


def search_space(cfg: DictConfig) -> dict[str, str]:
    params = OmegaConf.select(cfg, "hydra.sweeper.params")
    return {} if params is None else {str(k): str(v) for k, v in params.items()}


def missing_search_keys(cfg: DictConfig) -> list[str]:
    """Search keys absent from the composed config (Hydra would refuse them as overrides)."""
    return [key for key in search_space(cfg) if OmegaConf.select(cfg, key, default="<absent>") == "<absent>"]


def data_location(cfg: DictConfig) -> tuple[Path | None, bool]:
    """(dataset folder, generated on first use) of the composed data config."""
    data = cfg.data
    generator = data.get("generator")
    if generator is not None and not data.get("data_dir"):  # a named folder wins (as in CouplingDataModule)
        return Path(str(generator.get("out_dir"))) if generator.get("out_dir") else None, True
    return (Path(str(data.data_dir)) if data.get("data_dir") else None), False


def nearest_writable(path: Path) -> tuple[bool, Path]:
    """Whether ``path`` can be created or written: its nearest existing ancestor must be writable."""
    probe = path.resolve()
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK), probe
