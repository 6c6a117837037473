"""``aivj validate``: a composed config checked before a long run (keys, gates, trusted targets)."""

from __future__ import annotations

import re

import pytest

from aivj.validate import main as validate
from tests.conftest import CONF

EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def _generated_data(experiment: str) -> bool:
    """An experiment on a dataset a command writes under the state root (full_coupling: `aivj refine coupling`)."""
    return (
        re.search(r"^\s+data_dir: \$\{paths.state_dir\}", (CONF / "experiment" / f"{experiment}.yaml").read_text(), re.M)
        is not None
    )


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_shipped_experiment_checks_out(experiment, capsys):
    # A clean clone has no generated state: such an experiment's config is checked on the shipped dataset.
    data = ["data.data_dir=${paths.data_dir}/default"] if _generated_data(experiment) else []
    assert validate([f"experiment={experiment}", *data]) == 0
    assert "checks out" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("callbacks.golden_gate.threshold=1.5", "callbacks.golden_gate.threshold=1.5: a rate must lie in [0, 1]"),
        ("registry.tolerance=-0.1", "registry.tolerance=-0.1: a rate must lie in [0, 1]"),
        ("callbacks.drift_monitor.threshold=0", "callbacks.drift_monitor.threshold=0: a KL threshold must be > 0"),
        ("+callbacks.golden_gate.treshold=0.9", "callbacks.golden_gate.treshold: callbacks.GoldenSetGate takes no such argument"),
        ("model.net._target_=os.system", "model.net._target_=os.system: outside the trusted packages"),
        ("callbacks.golden_gate.treshold=0.9", "Could not override 'callbacks.golden_gate.treshold'"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_key(override, needle, capsys):
    assert validate([override]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err
