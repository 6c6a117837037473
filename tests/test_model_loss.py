"""ReweightedCouplingLoss: weights, masking of unmeasured S/T, the rank head, the gradient factor."""

from __future__ import annotations

import pytest
import torch

from coupling.losses import ReweightedCouplingLoss, ScoreLoss, score_weights
from coupling.nets.coupling_net import DualLayerCouplingNetwork
from experiments.reweight_stats import gradient_factor, synthetic_train_scores
from tests.helpers.fake_batches import fake_batch


def test_weights_are_a_softmax_of_the_score():
    s = torch.tensor([0.0, 1.0, 4.5, 5.0])
    a = score_weights(s, 1.0)
    assert a.sum().item() == pytest.approx(1.0) and (a.diff() > 0).all()
    assert a[3] / a[0] == pytest.approx(torch.e**5, rel=1e-4)
    torch.testing.assert_close(score_weights(s, 0.0), torch.full((4,), 0.25))


def test_beta_zero_is_the_plain_mean():
    out, batch = {"score": torch.tensor([1.0, 2.0, 3.0])}, {"score": torch.tensor([2.0, 2.0, 5.0])}
    plain = ScoreLoss()(out, batch)["loss"]
    weighted = ReweightedCouplingLoss(beta=0.0, rank_weight=0.0, st_weight=0.0)(out, batch)["loss"]
    assert weighted.item() == pytest.approx(plain.item())
    assert ReweightedCouplingLoss(beta=2.0, rank_weight=0.0)(out, batch)["loss"] > plain  # the 5.0 pair is off by 2


def test_unmeasured_st_are_masked_and_measured_ones_feed_the_rank_head():
    torch.manual_seed(0)
    net, batch = DualLayerCouplingNetwork(dropout=0.0), fake_batch(16)
    batch["spatial"][:8], batch["spatial"][8:] = float("nan"), 0.5
    out = net(batch)
    out["spatial"].retain_grad()
    parts = ReweightedCouplingLoss(st_weight=0.0)(out, batch)
    assert torch.isfinite(parts["loss"])
    parts["loss"].backward()
    g = out["spatial"].grad
    # the rank head reads the measured S where there is one, so no gradient reaches the S head there
    assert (g[8:] == 0).all() and (g[:8].abs() > 0).any()
    st_only = ReweightedCouplingLoss(rank_weight=0.0, st_weight=1.0)(net(batch), batch)
    assert torch.isfinite(st_only["st"])
    all_nan = {**batch, "spatial": torch.full((16,), float("nan")), "temporal": torch.full((16,), float("nan"))}
    assert ReweightedCouplingLoss()(net(batch), all_nan)["st"].item() == 0.0


def test_coupling_term_is_alpha_weighted_distance():
    out = {
        "score": torch.tensor([2.0, 2.0]),
        "f_fg": torch.tensor([[1.0, 0.0], [0.0, 0.0]]),
        "f_bg": torch.tensor([[0.0, 0.0], [0.0, 3.0]]),
    }
    batch = {"score": torch.tensor([0.0, 5.0])}
    parts = ReweightedCouplingLoss(beta=1.0, coupling_weight=1.0)(out, batch)
    a = score_weights(batch["score"], 1.0)
    assert parts["coupling"].item() == pytest.approx((a[0] * 1 + a[1] * 9).item(), rel=1e-5)


def test_good_pairs_get_three_times_the_gradient_at_beta_1():
    # The synthetic set's training split is the default day-one distribution (datamodules/synthetic.py).
    scores = synthetic_train_scores(n_presets=300, n_pairs=6000)
    factor = gradient_factor(scores, beta=1.0, n_batches=300)
    assert factor >= 3.0, factor
    assert gradient_factor(scores, beta=0.0, n_batches=100) == pytest.approx(1.0)


def test_a_training_step_lowers_the_loss():
    torch.manual_seed(0)
    net, loss, batch = DualLayerCouplingNetwork(dropout=0.0), ReweightedCouplingLoss(), fake_batch(64)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    first = None
    for _ in range(25):
        value = loss(net(batch), batch)["loss"]
        first = first if first is not None else value.item()
        opt.zero_grad()
        value.backward()
        opt.step()
    assert value.item() < 0.5 * first
