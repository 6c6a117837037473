"""aivj pipeline (aivj/pipeline, scripts/run_full_training.py): dry run on a fresh checkout, stage state and resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

import aivj.pipeline.stages as stages
from aivj.pipeline.cli import STATE_FILE, main
from tests.conftest import ROOT, TINY_DATA


def _tiny(data_dir: Path) -> list[str]:
    overrides = [
        "data=synthetic",
        f"paths.data_dir={data_dir}",
        *TINY_DATA,
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=3",
        "trainer.enable_progress_bar=false",
        "callbacks.rich_progress_bar=null",
        "callbacks.model_summary=null",
    ]
    return [arg for o in overrides for arg in ("--override", o)]


def _args(tmp: Path, data_dir: Path) -> list[str]:
    return [
        "--out",
        str(tmp / "pipe"),
        "--registry",
        str(tmp / "models"),
        "--search",
        "mlp_optuna",
        "--experiment",
        "none",
        "--no-progress",
        *_tiny(data_dir),
    ]


def test_dry_run_passes_and_writes_nothing(tmp_path, capsys):
    rc = main([*_args(tmp_path, tmp_path / "data"), "--dry-run", "--trials", "3"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "dry run passed" in out and "3 trials over model.optimizer.lr" in out
    assert not any(tmp_path.iterdir())  # no output, registry or data folder was created


def test_dry_run_fails_on_a_search_space_the_model_lacks(tmp_path, capsys):
    # coupling_optuna searches model.net.heads; forcing model=mlp must be caught before any training.
    rc = main([*_args(tmp_path, tmp_path / "data"), "--search", "coupling_optuna", "--override", "model=mlp", "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 1 and "search   FAIL" in out and "model.net.heads" in out


def test_failed_stage_is_retried_and_finished_stages_are_skipped(tmp_path, capsys, monkeypatch):
    calls: list[str] = []

    def flaky_search(ctx):
        calls.append("search")
        if calls.count("search") == 1:
            raise stages.StageFailed("simulated crash")
        return "searched", {"best_params": {"model.net.depth": 1}}

    def fake_train(ctx):
        calls.append("train")
        assert ctx.done["search"]["best_params"] == {"model.net.depth": 1}  # read back from the state file
        return "trained", {}

    monkeypatch.setattr(
        stages,
        "STAGES",
        [("ingest", stages.ingest), ("parquet", stages.parquet), ("search", flaky_search), ("train", fake_train)],
    )
    args = _args(tmp_path, tmp_path / "data")
    assert main(args) == 1
    first = capsys.readouterr().out
    assert "search   FAILED" in first and "simulated crash" in first
    state = json.loads((tmp_path / "pipe" / STATE_FILE).read_text())
    assert list(state["stages"]) == ["ingest", "parquet"]
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "ingest   skipped" in second and "parquet  skipped" in second
    assert "search   done" in second and "train    done" in second
    assert calls == ["search", "search", "train"]
    assert list(json.loads((tmp_path / "pipe" / STATE_FILE).read_text())["stages"])[-1] == "train"


@pytest.mark.slow
def test_pipeline_killed_after_search_resumes_at_train(tmp_path, tmp_path_factory):
    data_dir = tmp_path_factory.getbasetemp() / "shared_data"
    cmd = [sys.executable, "scripts/run_full_training.py", *_args(tmp_path, data_dir), "--trials", "1", "--golden-threshold", "0"]
    state_path = tmp_path / "pipe" / STATE_FILE
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and proc.poll() is None:
        if state_path.exists() and "search" in json.loads(state_path.read_text())["stages"]:
            break
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the pipeline and its train.py child, mid-way through "train"
    proc.wait()
    assert list(json.loads(state_path.read_text())["stages"]) == ["ingest", "parquet", "search"], proc.stdout.read()

    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    lines = rerun.stdout.splitlines()
    for name in ("ingest", "parquet", "search"):
        assert any(line.split()[1:3] == [name, "skipped"] for line in lines if line.startswith("[")), rerun.stdout
    for name in ("train", "gate", "promote", "report", "export"):
        assert any(line.split()[1:3] == [name, "done"] for line in lines if line.startswith("[")), rerun.stdout
    study = optuna.load_study(study_name="pipeline", storage=f"sqlite:///{tmp_path}/pipe/search/optuna.db")
    assert len(study.trials) == 1  # the search was not run again
    state = json.loads(state_path.read_text())["stages"]
    assert (tmp_path / "pipe" / "export" / "model.onnx").stat().st_size > 0
    assert (tmp_path / "models" / state["promote"]["version"]).is_dir()
    assert (tmp_path / "pipe" / "pipeline_report.md").read_text().count("| train |") == 1
