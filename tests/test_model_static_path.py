"""The static scoring path in the network: render dropout, the render predictor, the loss weights, the cache."""

from __future__ import annotations

import pytest
import torch

from aivj.contract.batch import static_path_batch
from coupling.losses import ReweightedCouplingLoss, path_weights, score_weights
from coupling.nets.coupling_net import DualLayerCouplingNetwork
from tests.helpers.fake_batches import fake_batch, fake_presets


def _net(**kw) -> DualLayerCouplingNetwork:
    torch.manual_seed(0)
    return DualLayerCouplingNetwork(render_predictor=True, **kw).eval()


def test_the_predicted_render_stands_in_for_a_missing_one():
    net, batch = _net(), fake_batch(16)
    static = static_path_batch(batch)
    noisy = {**static, "fg_render": torch.randn_like(batch["fg_render"]), "bg_render": torch.randn_like(batch["bg_render"])}
    before = net(static)["score"]
    torch.testing.assert_close(before, net(noisy)["score"])  # the render itself is never read
    with torch.no_grad():  # ... but what the predictor makes of the static features is
        net.encoder.predictor.net[-1].bias += 1.0
    assert (net(static)["score"] - before).abs().max() > 1e-4
    torch.testing.assert_close(net(batch)["score"], net(batch)["score"])


@pytest.mark.parametrize("blocks", [0, 1, 2])
def test_encode_then_score_equals_forward_with_the_predictor(blocks):
    net, p = _net(blocks=blocks, render_dropout=0.3), fake_presets(20, seed=3, render_share=0.5)
    fg, bg = torch.randint(0, 20, (50,)), torch.randint(0, 20, (50,))
    with torch.no_grad():
        cached = net.score_pairs(net.encode_presets(p["static"], p["render"], p["has_render"]), fg, bg)
        direct = net(
            {f"{side}_{k}": p[k][idx] for side, idx in (("fg", fg), ("bg", bg)) for k in ("static", "render", "has_render")}
        )
    torch.testing.assert_close(cached["score"], direct["score"], atol=1e-5, rtol=1e-5)  # eval: no dropout


def test_render_dropout_only_in_training_and_the_predictor_learns_from_every_render():
    net, batch = _net(render_dropout=0.5), fake_batch(256)
    batch["fg_has_render"][:], batch["bg_has_render"][:] = 1.0, 1.0
    assert net(batch)["unrendered_layers"].sum() == 0  # eval mode: every render is used
    net.train()
    out = net(batch)
    share = float(out["unrendered_layers"].float().mean()) / 2
    assert 0.35 < share < 0.65  # about half of the layers seen as unrendered
    assert out["render_aux"].ndim == 0 and out["render_aux"] > 0
    stats_before = net.encoder.predictor.render_mean.clone()
    net(fake_batch(256, seed=1, preset_seed=5))
    assert not torch.equal(stats_before, net.encoder.predictor.render_mean)  # running stats follow the renders
    with pytest.raises(ValueError, match="inputs=both"):
        DualLayerCouplingNetwork(inputs="render", render_predictor=True)


def test_static_pairs_are_not_tilted_towards_high_scores():
    score = torch.tensor([4.5, 1.0, 4.5, 1.0])
    unrendered = torch.tensor([0, 0, 1, 2])
    w = path_weights(score, beta=1.0, unrendered=unrendered)
    torch.testing.assert_close(w.sum(), torch.tensor(1.0))
    assert w[2] == w[3] == 0.25  # uniform over pairs with an unrendered layer
    torch.testing.assert_close(w[:2], score_weights(score[:2], 1.0) * 0.5)  # tilted among rendered pairs
    torch.testing.assert_close(path_weights(score, 1.0, torch.ones(4)), torch.full((4,), 0.25))


def test_the_loss_adds_the_render_predictor_term():
    net, batch = _net(), fake_batch(32)
    net.train()
    out = net(batch)
    with_term = ReweightedCouplingLoss(render_weight=1.0)(out, batch)
    without = ReweightedCouplingLoss(render_weight=0.0)(out, batch)
    torch.testing.assert_close(with_term["loss"] - without["loss"], out["render_aux"])
    assert "render" in with_term and "render" not in without
