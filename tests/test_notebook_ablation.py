"""notebooks/ablation.ipynb runs top to bottom (nbmake) on two tiny runs made here; the PR-curve callback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import open_dict

from callbacks.golden_pr_curve import golden_labels, precision_recall_at
from tests.conftest import ROOT, TINY_DATA, compose_config
from train import train

NOTEBOOK = ROOT / "notebooks" / "ablation.ipynb"


def _tiny_run(run_dir: Path, data_dir: Path, *overrides: str) -> None:
    cfg = compose_config(
        "train",
        [
            "data=synthetic",
            "model=mlp",
            "logger=many_loggers",
            f"paths.data_dir={data_dir}",
            *TINY_DATA,
            "trainer.max_epochs=2",
            "trainer.limit_train_batches=3",
            "callbacks.rich_progress_bar=null",
            "callbacks.model_summary=null",
            "registry.enabled=false",
            "test=false",
            *overrides,
        ],
        run_dir,
    )
    with open_dict(cfg):
        cfg.paths.output_dir = str(run_dir)
        cfg.callbacks.golden_pr_curve = {"_target_": "callbacks.golden_pr_curve.GoldenPRCurve"}
    train(cfg)


@pytest.mark.slow
def test_ablation_notebook_runs_on_two_tiny_runs(tmp_path, tmp_path_factory):
    data_dir = tmp_path_factory.getbasetemp() / "shared_data"
    runs = tmp_path / "ablation"
    _tiny_run(runs / "depth1", data_dir, "model.net.depth=1")
    _tiny_run(runs / "depth3", data_dir, "model.net.depth=3")
    assert (runs / "depth1" / "csv" / "metrics.csv").exists()

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for events in (runs / "depth1" / "tensorboard").rglob("events.out.tfevents.*"):  # the run may hold several
        acc = EventAccumulator(str(events), size_guidance={"tensors": 0})
        acc.Reload()
        tags.update(acc.Tags()["tensors"])
    assert "golden/pr_curve" in tags  # the golden-set PR curve, one per validation

    env = {**os.environ, "AIVJ_ABLATION_DIR": str(runs)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", str(NOTEBOOK), "-q", "-p", "no:cacheprovider", "--nbmake-timeout=300"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "1 passed" in proc.stdout


def test_notebook_first_code_cell_names_the_runs_folder():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "RUNS_DIR" in first_code.source and '"runs"' in first_code.source and "AIVJ_HOME" in first_code.source


def test_golden_labels_and_precision_recall_at_the_pass_threshold():
    score = torch.tensor([4.5, 4.0, 1.0, 2.0, 3.0])
    label, judged = golden_labels(score, None)
    assert label.tolist() == [True, True, False, False, False] and judged.tolist() == [True, True, True, True, False]
    pred = torch.tensor([3.5, 2.0, 3.2, 1.0])  # the judged rows: one positive missed, one negative passed
    precision, recall = precision_recall_at(pred, label[judged], 3.0)
    assert precision == pytest.approx(0.5) and recall == pytest.approx(0.5)
