"""Optuna studies on a real PostgreSQL server (initdb + pg_ctl in a temp dir on a free loopback port,
stopped after): two sweep processes share one study, and the pruner judges trials stored there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from callbacks.optuna_pruning import CLAIM_ATTR, make_pruner
from datamodules.synthetic import ensure_synthetic
from tests.conftest import ROOT, TINY_DATA, compose_config
from tests.servers import postgres_server
from tests.test_sweep_optuna import FAST

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


def test_a_poor_trial_stored_in_postgres_is_pruned(pg_url):
    study = optuna.create_study(
        study_name="pruning", storage=pg_url, direction="maximize", pruner=make_pruner("median", 2, 0, 25.0, 1, 3)
    )
    for value in (0.8, 0.82):
        t = study.ask()
        t.report(value, step=0)
        study.tell(t, value)
    # A second connection, as another worker would open it, sees what the first stored.
    other = optuna.load_study(study_name="pruning", storage=pg_url, pruner=make_pruner("median", 2, 0, 25.0, 1, 3))
    poor, good = other.ask(), other.ask()
    poor.report(0.5, step=0)
    good.report(0.9, step=0)
    assert poor.should_prune() and not good.should_prune()


def test_two_sweep_processes_share_one_study(pg_url, tmp_path, tmp_path_factory):
    data_dir = tmp_path_factory.getbasetemp() / "shared_data"
    cfg = compose_config("train", ["data=synthetic", f"paths.data_dir={data_dir}", *TINY_DATA], tmp_path)
    spec = {k: v for k, v in cfg.data.generator.items() if not k.startswith("_")}
    ensure_synthetic(**spec)  # generated once here, so the two workers do not race to write it

    def sweep(worker: int) -> subprocess.Popen:
        # Each worker seeds its sampler differently: equal seeds would ask the same first trials twice.
        cmd = [
            sys.executable,
            "train.py",
            "-m",
            "hparams_search=mlp_optuna",
            "hydra.sweeper.n_trials=2",
            f"hydra.sweeper.storage={pg_url}",
            f"hydra.sweeper.sampler.seed={worker}",
            "data=synthetic",
            f"paths.data_dir={data_dir}",
            *TINY_DATA,
            f"paths.log_dir={tmp_path}",
            f"paths.registry_dir={tmp_path}/models",
            f"hydra.sweep.dir={tmp_path}/sweep/{worker}",
            *FAST,
        ]
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    procs = [sweep(w) for w in (1, 2)]
    for p in procs:
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
    study = optuna.load_study(study_name="mlp", storage=pg_url)
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(study.trials) == 4 and len(done) == 4
    assert len({tuple(sorted(t.params.items())) for t in done}) == 4
    owners = {t.user_attrs[CLAIM_ATTR] for t in done}
    assert len(owners) == 4  # every job found its own trial in the shared study
    assert {Path(o).relative_to(tmp_path / "sweep").parts[0] for o in owners} == {"1", "2"}
    for t in done:
        assert sorted(t.intermediate_values) == [0, 1]  # the pruning callback reported every epoch
        assert t.value == pytest.approx(t.intermediate_values[1])
