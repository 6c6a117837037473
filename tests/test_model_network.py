"""DualLayerCouplingNetwork: shapes, FG/BG order, the encode/score cache, render masking, images."""

from __future__ import annotations

import pytest
import torch

from coupling.attention_images import attention_grid, log_attention_images
from coupling.groups import STATIC_GROUP_NAMES, static_groups, token_groups
from coupling.nets.coupling_net import DualLayerCouplingNetwork
from tests.helpers.fake_batches import fake_batch, fake_presets


def _net(**kw) -> DualLayerCouplingNetwork:
    torch.manual_seed(0)
    return DualLayerCouplingNetwork(**kw).eval()


def test_groups_cover_every_static_feature_once():
    groups = static_groups()
    assert set(groups) == set(STATIC_GROUP_NAMES) and len(groups) == 6
    assert sorted(i for idx in groups.values() for i in idx) == list(range(64))
    assert len(token_groups("both")) == 9 and len(token_groups("render")) == 3


@pytest.mark.parametrize("inputs", ["static", "render", "both"])
@pytest.mark.parametrize("blocks", [0, 1, 2])
def test_forward_shapes_and_ranges(inputs, blocks):
    out = _net(inputs=inputs, blocks=blocks)(fake_batch(24))
    for key in ("score", "spatial", "temporal", "w_s", "w_t", "rank"):
        assert out[key].shape == (24,), key
    assert ((out["score"] >= 0) & (out["score"] <= 5)).all()
    assert ((out["spatial"] >= 0) & (out["spatial"] <= 1)).all()
    assert (out["w_s"] > 0).all() and (out["w_t"] > 0).all()


@pytest.mark.parametrize("blocks", [0, 1, 2])
def test_fg_bg_order_matters(blocks):
    net, batch = _net(blocks=blocks), fake_batch(32)
    swapped = dict(batch)
    for part in ("static", "render", "has_render"):
        swapped[f"fg_{part}"], swapped[f"bg_{part}"] = batch[f"bg_{part}"], batch[f"fg_{part}"]
    a, b = net(batch)["score"], net(swapped)["score"]
    assert (a - b).abs().max() > 1e-3


@pytest.mark.parametrize("blocks", [0, 1, 2])
def test_encode_then_score_equals_forward(blocks):
    net, p = _net(blocks=blocks), fake_presets(20, seed=3)
    fg, bg = torch.randint(0, 20, (50,)), torch.randint(0, 20, (50,))
    with torch.no_grad():
        cached = net.score_pairs(net.encode_presets(p["static"], p["render"], p["has_render"]), fg, bg)
        batch = {f"{side}_{k}": p[k][idx] for side, idx in (("fg", fg), ("bg", bg)) for k in ("static", "render", "has_render")}
        direct = net(batch)
    for key in ("score", "spatial", "temporal", "w_s", "w_t"):
        torch.testing.assert_close(cached[key], direct[key], atol=1e-5, rtol=1e-5)


def test_render_of_an_unrendered_preset_is_ignored():
    net, batch = _net(), fake_batch(16)
    batch["fg_has_render"][:] = 0.0
    noisy = {**batch, "fg_render": torch.randn_like(batch["fg_render"])}
    torch.testing.assert_close(net(batch)["score"], net(noisy)["score"])
    batch["fg_has_render"][:] = 1.0  # and it is used once the preset is rendered
    noisy["fg_has_render"] = batch["fg_has_render"]
    assert (net(batch)["score"] - net(noisy)["score"]).abs().max() > 1e-4


def test_model_is_small():
    net = _net()
    size_mb = sum(p.numel() * p.element_size() for p in net.parameters()) / 2**20
    assert size_mb < 10


class _Writer:
    def __init__(self):
        self.images, self.texts = {}, {}

    def add_image(self, tag, img, step):
        self.images[tag] = img

    def add_text(self, tag, text, step):
        self.texts[tag] = text


def test_attention_images():
    net, writer = _net(blocks=2), _Writer()
    assert log_attention_images(net, fake_batch(8), writer, 0) == 4
    img = writer.images["attention/block1/fg_from_bg"]
    assert img.shape == (1, 9 * 12, 4 * (9 * 12 + 2)) and img.min() >= 0 and img.max() <= 1
    assert "motion" in writer.texts["attention/tokens"]
    assert all(m.last_attention is None and not m.keep_attention for m in net.attention_modules().values())
    grid = attention_grid(torch.tensor([[[1.0, 0.0], [0.5, 0.5]]]), cell=1)
    assert grid[0, :, :2].tolist() == [[1.0, 0.0], [0.5, 0.5]]
