"""``aivj compare``: identical models pass with SSIM 1.0; a model whose coupling moved fails the
coordinate tolerance and nothing else; a failed tolerance exits 1."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aivj.compare.cli import main
from aivj.refinery.cache import FrameCache
from aivj.refinery.settings import RenderSettings
from datamodules.pairs import PresetTable
from datamodules.synthetic import ensure_synthetic
from datamodules.tiers import materialize_tiers
from tests.helpers.coupling_models import build, save


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small dataset with its regression sets, random frames for its presets, and two checkpoints."""
    tmp = tmp_path_factory.mktemp("compare")
    data = ensure_synthetic(tmp / "syn", n_presets=60, n_pairs=600, golden_per_side=10, seed=2)
    materialize_tiers(data, fraction=0.05)
    cache_root = tmp / "frames"
    cache = FrameCache(RenderSettings(), cache_root)
    g = np.random.default_rng(0)
    for pid in PresetTable.load(data).ids.to_pylist():
        cache.save_frames(pid, g.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8))
    old = build()
    moved = build()
    with torch.no_grad():  # the dx logit: the same scores, another offset for every pair
        moved.net.coupling.net[-1].bias[2] += 1.0
    return data, cache_root, save(old, tmp / "old"), save(moved, tmp / "moved")


def run(world, tmp_path, old, new):
    data, cache_root = world[:2]
    out = tmp_path / "report"
    rc = main([str(old), str(new), "--data", str(data), "--cache", str(cache_root), "--out", str(out), "--limit", "6"])
    return rc, json.loads((out / "compare.json").read_text()), out


def test_identical_models_pass_every_tolerance_with_ssim_one(world, tmp_path):
    rc, summary, out = run(world, tmp_path, world[2], world[2])
    assert rc == 0
    assert all(v["pass"] for v in summary["verdicts"])
    for s in summary["sets"].values():
        assert s["ssim_mean"] == pytest.approx(1.0, abs=1e-6) and s["psnr_identical"] == s["pairs"] == 6
    assert (out / "report.html").read_text().count("PASS") == 4
    assert len(list((out / "heatmaps").glob("*.png"))) == 12  # 6 pairs x 2 sets, all shown


def test_a_moved_coupling_fails_the_coordinate_tolerance_only(world, tmp_path):
    rc, summary, out = run(world, tmp_path, world[2], world[3])
    assert rc == 1
    verdict = {v["tolerance"]: v for v in summary["verdicts"]}
    assert not verdict["coord_pct"]["pass"] and verdict["coord_pct"]["pairs_over"] == 12
    assert verdict["score_pct"]["pass"] and verdict["score_pct"]["worst"] == 0.0
    assert verdict["phase_frames"]["pass"]
    assert all(s["ssim_mean"] < 1.0 for s in summary["sets"].values())  # the composites moved too
    assert "FAIL" in (out / "report.html").read_text()
