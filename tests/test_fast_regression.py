"""Fast regression tier: the current champion on the fast set and the golden set (thresholds: conf/regression).

Runs in CI (`.ci/run` runs every marker). Select it alone with ``pytest -m fast_regression``.
The champion is the registry's (models/ or $AIVJ_REGISTRY); before the first promotion, the newest
checkpoint under outputs/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from datamodules.pairs import PresetTable
from datamodules.regression import golden_pass_rate, pairwise_accuracy, predict, tier_split
from datamodules.tiers import materialize_tiers, tiers_are_current
from tests.conftest import ROOT

pytestmark = pytest.mark.fast_regression
THRESHOLDS = OmegaConf.load(ROOT / "conf" / "regression" / "default.yaml")


def _current_model():
    from aivj.export.model import load_model
    from aivj.registry.store import Registry

    registry = Registry(os.environ.get("AIVJ_REGISTRY", ROOT / "models"))
    if registry.champion():
        return load_model(None, registry.root)
    ckpts = sorted((ROOT / "outputs").glob("train/runs/*/checkpoints/epoch_*.ckpt"), key=lambda p: p.stat().st_mtime)
    if ckpts:
        return load_model(str(ckpts[-1]))
    pytest.fail(f"no champion in {registry.root} and no checkpoint under outputs/: run `make train` first")


@pytest.fixture(scope="module")
def scored():
    data_dir = ROOT / "data" / "default"
    if not tiers_are_current(data_dir):
        materialize_tiers(data_dir)
    presets = PresetTable.load(data_dir)
    model, label = _current_model()
    return {name: (predict(model, s := tier_split(data_dir, name, presets)), s.cols["score"]) for name in ("fast", "golden")}, label


def test_fast_set_against_thresholds(scored):
    (pred, true), label = scored[0]["fast"], scored[1]
    assert len(true) > 100
    acc, mae = pairwise_accuracy(pred, true), float(abs(pred - true).mean())
    assert acc >= THRESHOLDS.fast.min_pairwise_acc, f"{label}: fast-set pairwise accuracy {acc:.3f}"
    assert mae <= THRESHOLDS.fast.max_mae, f"{label}: fast-set MAE {mae:.3f}"


def test_golden_set_against_threshold(scored):
    (pred, true), label = scored[0]["golden"], scored[1]
    assert len(true) >= 100
    rate = golden_pass_rate(pred, true)
    assert rate >= THRESHOLDS.golden.min_pass_rate, f"{label}: golden pass rate {rate:.3f}"
