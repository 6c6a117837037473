"""Every config composes; Hydra's own message reaches the user on a bad override."""

from __future__ import annotations

import subprocess
import sys

import hydra
import pytest

from tests.conftest import CONF, ROOT, compose_config

EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
DEBUGS = sorted(p.stem for p in (CONF / "debug").glob("*.yaml"))
MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
DATA = sorted(p.stem for p in (CONF / "data").glob("*.yaml"))


def test_there_are_experiments_to_compose():
    assert {"full", "smoke"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes(experiment, tmp_path):
    cfg = compose_config("train", [f"experiment={experiment}"], tmp_path)
    assert cfg.model._target_ and cfg.data._target_ and cfg.trainer._target_
    assert cfg.optimized_metric


@pytest.mark.parametrize("debug", DEBUGS)
def test_debug_composes(debug, tmp_path):
    cfg = compose_config("train", [f"debug={debug}"], tmp_path)
    assert cfg.trainer.accelerator == "cpu"


@pytest.mark.parametrize("model", MODELS)
def test_model_instantiates(model, tmp_path):
    cfg = compose_config("train", [f"model={model}"], tmp_path)
    module = hydra.utils.instantiate(cfg.model)
    assert hasattr(module, "training_step")


@pytest.mark.parametrize("data", DATA)
def test_data_config_composes(data, tmp_path):
    cfg = compose_config("train", [f"data={data}"], tmp_path)
    assert cfg.data._target_.endswith("CouplingDataModule")
    assert (cfg.data.data_dir is None) != (cfg.data.generator is None)


def test_eval_config_composes(tmp_path):
    cfg = compose_config("eval", ["ckpt_path=/tmp/x.ckpt"], tmp_path)
    assert cfg.ckpt_path == "/tmp/x.ckpt" and "callbacks" not in cfg


@pytest.mark.parametrize(
    "override, expected",
    [("no_such_key=1", "Could not override 'no_such_key'"), ("model=no_such_model", "Could not find 'model/no_such_model'")],
)
def test_bad_override_gives_hydras_message_not_our_traceback(override, expected):
    proc = subprocess.run([sys.executable, "train.py", override], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_and_cfg_job_show_the_composed_config():
    help_ = subprocess.run([sys.executable, "train.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert help_.returncode == 0
    groups = next(line for line in help_.stdout.splitlines() if line.startswith("experiment:"))
    assert "full" in groups and "smoke" in groups
    assert "== Config ==" in help_.stdout
    job = subprocess.run(
        [sys.executable, "train.py", "--cfg", "job", "experiment=full"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert job.returncode == 0
    assert "tags:\n- full" in job.stdout and "_target_: datamodules.coupling_datamodule.CouplingDataModule" in job.stdout
