"""Optuna sweep through Hydra multirun: a persistent study that grows on re-runs, and the pruning route."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from callbacks.optuna_pruning import CLAIM_ATTR, claim_running_trial, make_pruner
from tests.conftest import ROOT, TINY_DATA

FAST = [
    "trainer.max_epochs=2",
    "trainer.limit_train_batches=3",
    "trainer.enable_progress_bar=false",
    "callbacks.rich_progress_bar=null",
    "callbacks.model_summary=null",
    "callbacks.early_stopping=null",
    "extras.print_config=false",
]


def _sweep(tmp: Path, data_dir: Path, run: int) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "train.py",
        "-m",
        "hparams_search=mlp_optuna",
        "hydra.sweeper.n_trials=2",
        "data=synthetic",
        f"paths.data_dir={data_dir}",
        *TINY_DATA,
        f"paths.log_dir={tmp}",
        f"paths.studies_dir={tmp}/optuna",
        f"paths.registry_dir={tmp}/models",
        f"hydra.sweep.dir={tmp}/sweep/{run}",
        *FAST,
    ]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_two_trial_sweep_twice_gives_four_trials_with_reported_epochs(tmp_path, tmp_path_factory):
    data_dir = tmp_path_factory.getbasetemp() / "shared_data"
    for run in range(2):
        proc = _sweep(tmp_path, data_dir, run)
        assert proc.returncode == 0, proc.stderr[-3000:]
    study = optuna.load_study(study_name="mlp", storage=f"sqlite:///{tmp_path}/optuna/mlp.db")
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(study.trials) == 4 and len(trials) == 4
    for t in trials:
        # The pruning callback found each trial from inside its job and reported every epoch.
        assert sorted(t.intermediate_values) == [0, 1]
        assert t.value == pytest.approx(t.intermediate_values[1])
        assert Path(t.user_attrs[CLAIM_ATTR]).is_relative_to(tmp_path / "sweep")
    assert len({t.user_attrs[CLAIM_ATTR] for t in trials}) == 4
    assert not list((tmp_path / "models").glob("*"))  # sweep trials never reach the registry


def _ask(study, lr: float, depth: int):
    trial = study.ask()
    trial.suggest_float("model.optimizer.lr", lr, lr)
    trial.suggest_int("model.net.depth", depth, depth)
    return trial


def test_claim_finds_the_trial_whose_params_are_the_job_overrides():
    study = optuna.create_study(direction="maximize")
    first, second = _ask(study, 1e-3, 1), _ask(study, 3e-3, 2)
    # What the sweeper writes as the job's overrides: name=value of the trial params plus fixed ones.
    overrides = ["model.optimizer.lr=0.003", "model.net.depth=2", "data=synthetic"]
    claimed = claim_running_trial(study, overrides, "/runs/1")
    assert claimed is not None and claimed.number == second.number != first.number
    assert study.trials[second.number].user_attrs[CLAIM_ATTR] == "/runs/1"
    assert claim_running_trial(study, overrides, "/runs/2") is None  # already claimed by the first job
    assert claim_running_trial(study, ["model.optimizer.lr=0.5", "model.net.depth=1"], "/runs/3") is None


def test_reported_values_reach_the_pruner_and_a_poor_trial_is_pruned():
    study = optuna.create_study(direction="maximize", pruner=make_pruner("median", 2, 0, 25.0, 1, 3))
    for value in (0.8, 0.82):
        t = study.ask()
        t.report(value, step=0)
        study.tell(t, value)
    poor, good = study.ask(), study.ask()
    poor.report(0.5, step=0)
    good.report(0.9, step=0)
    assert poor.should_prune() and not good.should_prune()


def test_unknown_pruner_name_is_refused():
    with pytest.raises(ValueError, match="pruner must be"):
        make_pruner("sometimes", 1, 1, 25.0, 1, 3)
