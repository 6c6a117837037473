"""The inference API: the shipped champion loads through load_scorer, without Hydra or a Trainer."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from aivj.contract.batch import path_batch
from aivj.contract.schema import FEATURE_DIM, RENDER_DIM
from aivj.inference import load_scorer
from aivj.inference.build import BuildError, build_trusted
from tests.conftest import ROOT
from tests.test_export_pairs_quality import make_pack

MODELS = ROOT / "models"
SHIPPED = (MODELS / "champion").read_text().strip()


@pytest.fixture(scope="module")
def champion():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIVJ_REGISTRY", str(ROOT / "build" / "no-such-registry"))  # only the shipped one is left
        return load_scorer("champion")


def _presets(n: int, seed: int = 0):
    g = np.random.default_rng(seed)
    return g.uniform(-1, 1, (n, FEATURE_DIM)).astype(np.float32)


def test_the_shipped_champion_loads_and_passes_both_paths(champion):
    assert champion.label == SHIPPED
    assert champion.metrics_file == MODELS / SHIPPED / "metrics.json"
    assert {path: ok for path, (ok, _) in champion.paths.items()} == {"render": True, "static": True}


@pytest.mark.slow
def test_loading_imports_no_hydra(tmp_path):
    code = (
        "import sys; from aivj.inference import load_scorer; s = load_scorer('champion'); "
        "print(s.label, s.model.training, s.model._trainer is None, any(m.split('.')[0] == 'hydra' for m in sys.modules))"
    )
    env = {**os.environ, "AIVJ_REGISTRY": str(tmp_path / "empty")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [SHIPPED, "False", "True", "False"]


def test_cached_scores_equal_the_networks_own_forward_on_the_static_path(champion):
    static = _presets(6)
    fg, bg = np.array([0, 1, 2, 5]), np.array([3, 4, 5, 0])
    cached = champion.score_pairs(champion.encode_presets(static), fg, bg)
    batch = {
        "fg_static": torch.from_numpy(static[fg]),
        "bg_static": torch.from_numpy(static[bg]),
        "fg_render": torch.zeros(4, RENDER_DIM),
        "bg_render": torch.zeros(4, RENDER_DIM),
        "fg_has_render": torch.ones(4),
        "bg_has_render": torch.ones(4),
    }
    with torch.no_grad():
        forward = champion.net(path_batch(batch, "static"))["score"].numpy()
    np.testing.assert_allclose(cached, forward, atol=1e-5)
    assert ((cached >= 0) & (cached <= 5)).all()
    np.testing.assert_allclose(champion.score_presets(static, fg, bg), cached, atol=1e-6)


def test_a_checkpoint_path_loads_the_same_model_with_its_figures(champion):
    by_path = load_scorer(str(MODELS / SHIPPED / "model.ckpt"))
    static = _presets(4, seed=1)
    np.testing.assert_allclose(by_path.score_presets(static, [0, 1], [2, 3]), champion.score_presets(static, [0, 1], [2, 3]))
    assert by_path.metrics == champion.metrics


def test_score_pack_scores_every_usable_pair(champion, tmp_path):
    pack = make_pack(tmp_path, n=6, missing=(3,), broken=())
    scored = champion.score_pack(pack)
    assert len(scored.pair_ids) == len(scored.scores) == 5 and scored.missing == 1
    assert ((scored.scores >= 0) & (scored.scores <= 5)).all()


def test_untrusted_targets_are_refused_before_import():
    with pytest.raises(BuildError, match="outside the trusted packages"):
        build_trusted({"_target_": "subprocess.run", "_args_": [["true"]]})
    assert build_trusted({"_target_": "torch.nn.Linear", "in_features": 2, "out_features": 1}).out_features == 1
