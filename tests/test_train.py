"""train.py end to end on tiny synthetic data: fast_dev_run, metrics.json, resume, smoke subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import open_dict

from tests.conftest import ROOT
from train import train


def test_fast_dev_run_cpu(tiny_train_cfg):
    with open_dict(tiny_train_cfg):
        tiny_train_cfg.trainer.fast_dev_run = True
    metrics = train(tiny_train_cfg)
    assert "test_unseen/pairwise_acc" in metrics and "test_golden/pass_rate" in metrics
    saved = json.loads((Path(tiny_train_cfg.paths.output_dir) / "metrics.json").read_text())
    assert saved["metrics"]["test_seen/mae"] == pytest.approx(metrics["test_seen/mae"])


@pytest.mark.parametrize("model", sorted(p.stem for p in (ROOT / "conf" / "model").glob("*.yaml")))
def test_every_model_config_runs_fast_dev_run(model, tiny_train_cfg, tmp_path):
    from tests.conftest import TINY_DATA, compose_config

    cfg = compose_config(
        "train",
        [
            "data=synthetic",
            f"model={model}",
            f"paths.data_dir={tiny_train_cfg.paths.data_dir}",
            *TINY_DATA,
            "++trainer.fast_dev_run=true",
            "callbacks.rich_progress_bar=null",
            "registry.enabled=false",
        ],
        tmp_path,
    )
    metrics = train(cfg)
    assert metrics["test_unseen/mae"] is not None and metrics["test_unseen/mae"] >= 0


def test_train_writes_checkpoint_events_and_metrics(tiny_train_cfg):
    metrics = train(tiny_train_cfg)
    run = Path(tiny_train_cfg.paths.output_dir)
    assert list((run / "checkpoints").glob("epoch_*.ckpt")) and (run / "checkpoints" / "last.ckpt").exists()
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    saved = json.loads((run / "metrics.json").read_text())["metrics"]
    for key in ("val/pairwise_acc", "val/mae", "golden/pass_rate", "test_seen/spearman", "test_unseen/kendall"):
        assert key in saved and saved[key] is not None
    assert saved == pytest.approx(metrics)


def test_tensorboard_shows_sampler_composition_and_hparams(tiny_train_cfg):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with open_dict(tiny_train_cfg):
        tiny_train_cfg.trainer.log_every_n_steps = 1
    train(tiny_train_cfg)
    scalars, plugins, sessions = set(), set(), 0
    for events in (Path(tiny_train_cfg.paths.output_dir) / "tensorboard").rglob("events.out.tfevents.*"):
        acc = EventAccumulator(str(events)).Reload()
        scalars |= set(acc.Tags()["scalars"])
        try:
            content = acc.PluginTagToContent("hparams")
            plugins |= set(content)
            sessions += "_hparams_/session_start_info" in content
        except KeyError:  # this events file holds no hparams summary
            pass
        if "sampler/elite_per_batch" in acc.Tags()["scalars"]:
            values = [e.value for e in acc.Scalars("sampler/elite_per_batch")]
            assert values and set(values) == {4.0}
    assert {"sampler/elite_per_batch", "sampler/elite_exposure_mean", "val/pairwise_acc"} <= scalars
    assert "_hparams_/session_start_info" in plugins
    assert sessions == 1  # one HPARAMS row per run, with the final metrics


def test_resume_from_checkpoint_continues_epoch_count(tiny_train_cfg, tmp_path):
    train(tiny_train_cfg)
    last = Path(tiny_train_cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    first = torch.load(last, map_location="cpu", weights_only=False)
    with open_dict(tiny_train_cfg):
        tiny_train_cfg.ckpt_path = str(last)
        tiny_train_cfg.trainer.max_epochs = 2
        tiny_train_cfg.paths.output_dir = str(tmp_path / "resumed")
        tiny_train_cfg.test = False
    train(tiny_train_cfg)
    resumed = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    # One more epoch, not two from scratch: the step count doubles and the epoch count moves by one.
    assert resumed["epoch"] == first["epoch"] + 1
    assert resumed["global_step"] == 2 * first["global_step"]


@pytest.mark.slow
def test_smoke_experiment_as_subprocess(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "train.py",
            "experiment=smoke",
            f"paths.log_dir={tmp_path}",
            f"paths.registry_dir={tmp_path}/models",
            f"paths.data_dir={tmp_path}/data",
            "extras.print_config=false",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = Path(proc.stdout.strip().splitlines()[-1].removeprefix("run folder: "))
    assert run_dir.is_relative_to(tmp_path)
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert metrics["val/pairwise_acc"] > 0.5  # better than a coin after a minute of training
