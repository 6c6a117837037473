"""Fast regression tier: the current champion on the fast set and the golden set (thresholds: conf/regression),
on every scoring path the config lists (render; static = has_render forced to 0), and the champion's
recorded metrics passing each of those paths (aivj.contract.scoring_paths.check_path).

Runs in CI (`.ci/run` runs every marker). Select it alone with ``pytest -m fast_regression``.
The champion is the registry's (models/ or $AIVJ_REGISTRY); before the first promotion, the newest
checkpoint under the state root's runs/ (var/runs by default).
"""

from __future__ import annotations

import json
import os

import pytest
from omegaconf import OmegaConf

from aivj.contract.scoring_paths import check_path
from aivj.home import state_dir
from aivj.inference.tiers import (
    golden_pass_rate,
    pairwise_accuracy,
    predict,
    tier_split,
)
from datamodules.pairs import PresetTable
from datamodules.tiers import materialize_tiers, tiers_are_current
from tests.conftest import ROOT

pytestmark = pytest.mark.fast_regression
THRESHOLDS = OmegaConf.load(ROOT / "conf" / "regression" / "default.yaml")
PATHS = list(THRESHOLDS.paths)


def _current_model():
    from aivj.inference.loading import load_model
    from aivj.registry.store import Registry

    registry = Registry(os.environ.get("AIVJ_REGISTRY", ROOT / "models"))
    if champion := registry.champion():
        return (*load_model(None, registry.root), registry.metrics(champion))
    ckpts = sorted(state_dir("runs").glob("train/runs/*/checkpoints/epoch_*.ckpt"), key=lambda p: p.stat().st_mtime)
    if ckpts:
        run_metrics = ckpts[-1].parent.parent / "metrics.json"
        return (*load_model(str(ckpts[-1])), json.loads(run_metrics.read_text()) if run_metrics.exists() else {})
    pytest.fail(f"no champion in {registry.root} and no checkpoint under {state_dir('runs')}: run `make train` first")


@pytest.fixture(scope="module")
def scored():
    data_dir = ROOT / "data" / "default"
    if not tiers_are_current(data_dir):
        materialize_tiers(data_dir)
    presets = PresetTable.load(data_dir)
    model, label, metrics = _current_model()
    splits = {name: tier_split(data_dir, name, presets) for name in ("fast", "golden")}
    preds = {
        (path, name): (predict(model, split, path=path), split.cols["score"]) for path in PATHS for name, split in splits.items()
    }
    return preds, label, metrics


@pytest.mark.parametrize("path", PATHS)
def test_fast_set_against_thresholds(scored, path):
    (pred, true), label = scored[0][path, "fast"], scored[1]
    limits = THRESHOLDS[path].fast
    assert len(true) > 100
    acc, mae = pairwise_accuracy(pred, true), float(abs(pred - true).mean())
    assert acc >= limits.min_pairwise_acc, (
        f"{label}: {path}-path fast-set pairwise accuracy {acc:.3f} < {limits.min_pairwise_acc}"
    )
    assert mae <= limits.max_mae, f"{label}: {path}-path fast-set MAE {mae:.3f} > {limits.max_mae}"


@pytest.mark.parametrize("path", PATHS)
def test_golden_set_against_threshold(scored, path):
    (pred, true), label = scored[0][path, "golden"], scored[1]
    minimum = THRESHOLDS[path].golden.min_pass_rate
    assert len(true) >= 100
    rate = golden_pass_rate(pred, true)
    assert rate >= minimum, f"{label}: {path}-path golden pass rate {rate:.3f} < {minimum}"


@pytest.mark.parametrize("path", PATHS)
def test_champion_metrics_pass_the_path(scored, path):
    """A path the champion recorded no figures for fails here by name rather than passing silently."""
    label, metrics = scored[1], scored[2]
    ok, line = check_path(metrics, path)
    assert ok, f"{label}: {line}"
