"""Shared fixtures: composed Hydra configs pointing at a tiny synthetic dataset in a temp folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from aivj.configs import register_resolvers

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
register_resolvers()  # configs and tests read ${threshold:...}
os.environ.setdefault("AIVJ_ROOT", str(ROOT))
# Small enough that a CPU epoch takes a second or two, large enough for every split to exist.
TINY_DATA = ["data.generator.n_presets=300", "data.generator.n_pairs=4000", "data.generator.golden_per_side=30"]


def compose_config(config_name: str, overrides: list[str], tmp: Path) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp / "run")
        cfg.paths.log_dir = str(tmp / "logs")
        cfg.paths.studies_dir = str(tmp / "studies")
        cfg.paths.registry_dir = str(tmp / "models")
        cfg.extras.print_config = False
    GlobalHydra.instance().clear()
    return cfg


@pytest.fixture
def tiny_train_cfg(tmp_path: Path, tmp_path_factory) -> DictConfig:
    data_dir = tmp_path_factory.getbasetemp() / "shared_data"
    return compose_config(
        "train",
        [
            "data=synthetic",
            "model=mlp",
            f"paths.data_dir={data_dir}",
            *TINY_DATA,
            "trainer.max_epochs=1",
            "callbacks.rich_progress_bar=null",
            "callbacks.model_summary=null",
            "registry.enabled=false",
        ],
        tmp_path,
    )
