"""The coupling head: its metrics, its loss on partly labelled batches, and the datamodule handing it
the pairs table's coupling columns (learning is measured on data/default: docs/results.md)."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest
import torch

from aivj.contract import coupling as cc
from aivj.contract.layout import pairs_dataset
from aivj.refinery.coupling_table import write_coupling_dataset
from coupling.losses import setting_loss
from coupling.setting_metrics import coord_error_pct, phase_error_frames, setting_metrics
from datamodules.pairs import PresetTable, load_splits
from datamodules.synthetic import ensure_synthetic


def test_coordinate_error_is_in_percent_of_the_range_and_the_phase_error_wraps_around_the_beat():
    target = torch.full((4, 5), 0.5)
    assert float(coord_error_pct(target + 0.01, target)) == pytest.approx(1.0, rel=1e-4)
    logits = torch.zeros(3, cc.N_PHASES)
    logits[0, 15], logits[1, 4], logits[2, 0] = 1, 1, 1  # predicted classes 15, 4, 0
    assert float(phase_error_frames(logits, torch.tensor([0, 0, 0]))) == pytest.approx((1 + 4 + 0) / 3)


def test_pairs_without_targets_are_skipped_by_the_loss_and_the_metrics():
    out = {"coupling": torch.rand(4, 5, requires_grad=True), "coupling_phase_logits": torch.randn(4, cc.N_PHASES)}
    none = {"coupling_target": torch.full((4, 5), float("nan")), "coupling_phase": torch.full((4,), -1)}
    setting, phase = (v.detach() for v in setting_loss(out, none))
    assert float(setting) == 0.0 and float(phase) == 0.0
    assert setting_metrics(out, none) == ({}, 0)
    some = {"coupling_target": none["coupling_target"].clone(), "coupling_phase": none["coupling_phase"].clone()}
    some["coupling_target"][1] = out["coupling"][1].detach() + 0.1
    some["coupling_phase"][1] = 3
    setting = setting_loss(out, some)[0].detach()
    assert float(setting) == pytest.approx(0.01, rel=1e-4)  # only row 1 counts
    figures, n = setting_metrics(out, some)
    assert n == 1 and float(figures["coupling_coord_err_pct"]) == pytest.approx(10.0, rel=1e-4)


def test_the_datamodule_reads_the_coupling_columns_where_the_table_has_them(tmp_path):
    data = ensure_synthetic(tmp_path / "syn", n_presets=60, n_pairs=400, golden_per_side=10, seed=1)
    t = pairs_dataset(data).to_table(columns=["pack", "pair", "split"])
    train = np.flatnonzero(t["split"].to_numpy(zero_copy_only=False) == "train")[:25]
    cols = {
        "coupling_fg_opacity": np.full(25, 0.8),
        "coupling_bg_opacity": np.full(25, 0.4),
        "coupling_dx": np.full(25, 0.25),
        "coupling_dy": np.full(25, -0.25),
        "coupling_scale": np.full(25, 1.25),
        "coupling_phase": np.full(25, -8),
        "coupling_score": np.full(25, 3.0),
        "coupling_gain": np.full(25, 0.5),
    }
    out = tmp_path / "with_coupling"
    pack, pair = t["pack"].to_numpy(zero_copy_only=False)[train], t["pair"].to_numpy()[train]
    info = write_coupling_dataset(data, out, pack, pair, cols, {})
    assert info["pairs_with_coupling"] == 25 and info["pairs_in_dataset"] == t.num_rows
    before = pairs_dataset(data).to_table().sort_by([("pack", "ascending"), ("pair", "ascending")])
    after = pairs_dataset(out).to_table().sort_by([("pack", "ascending"), ("pair", "ascending")])
    assert after.select(before.column_names).equals(before)  # every existing column unchanged
    assert int(pc.sum(after["coupling_phase"].is_valid()).as_py()) == 25
    split = load_splits(out, PresetTable.load(out), ["train", "val"])
    target, phase = split["train"].cols["coupling_target"], split["train"].cols["coupling_phase"]
    labelled = phase >= 0
    assert labelled.sum() == 25 and np.isnan(target[~labelled]).all()
    np.testing.assert_allclose(target[labelled], [[1.0, 1 / 3, 1.0, 0.0, 0.5]] * 25, atol=1e-6)
    assert (phase[labelled] == 0).all() and (split["val"].cols["coupling_phase"] == -1).all()
    batch = split["train"].__getitems__(list(range(8)))
    assert batch["coupling_target"].shape == (8, 5) and batch["coupling_phase"].dtype == torch.int64


@pytest.mark.parametrize("detach", [True, False])
def test_a_detached_head_leaves_the_score_path_untouched(detach):
    from tests.helpers.coupling_models import build

    net = build().net.train()
    net.coupling_detach = detach
    g = torch.Generator().manual_seed(0)
    batch = {f"{s}_static": torch.randn(16, 64, generator=g) for s in ("fg", "bg")}
    batch |= {f"{s}_render": torch.randn(16, 96, generator=g) for s in ("fg", "bg")}
    batch |= {f"{s}_has_render": torch.ones(16) for s in ("fg", "bg")}
    batch |= {"coupling_target": torch.rand(16, 5, generator=g), "coupling_phase": torch.randint(0, 16, (16,), generator=g)}
    setting, phase = setting_loss(net(batch), batch)
    (setting + phase).backward()
    trunk = net.trunk[0].weight.grad
    assert net.coupling.net[0].weight.grad.abs().sum() > 0
    assert (trunk is None or float(trunk.abs().sum()) == 0.0) == detach
