"""CouplingLitModule, its metrics and the conf/model configs, on a fake datamodule."""

from __future__ import annotations

import itertools
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from scipy import stats

from coupling.metrics import GoldenPassRate, KendallTau, PairwiseAccuracy, SpearmanRho
from tests.helpers.fake_batches import FakeDataModule, fake_batch

CONF = Path(__file__).resolve().parents[1] / "conf" / "model"


def test_pairwise_accuracy_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    y, p = torch.rand(50, generator=g) * 5, torch.rand(50, generator=g) * 5
    p[3] = p[4]  # one tied prediction counts one half
    m = PairwiseAccuracy()
    m.update(p[:20], y[:20])
    m.update(p[20:], y[20:])
    right = total = 0.0
    for i, j in itertools.combinations(range(50), 2):
        if abs(y[i] - y[j]) >= 0.25:
            total += 1
            d = (p[i] - p[j]) * (y[i] - y[j])
            right += 1.0 if d > 0 else 0.5 if d == 0 else 0.0
    assert m.compute().item() == pytest.approx(right / total, abs=1e-6)
    sampled = PairwiseAccuracy(max_pairs=20_000)
    sampled.update(p, y)
    assert sampled.compute().item() == pytest.approx(right / total, abs=0.02)


def test_rank_correlations_match_scipy():
    g = torch.Generator().manual_seed(1)
    y = torch.rand(200, generator=g)
    p = y + 0.3 * torch.randn(200, generator=g)
    k, s = KendallTau(), SpearmanRho()
    k.update(p, y), s.update(p, y)
    assert k.compute().item() == pytest.approx(stats.kendalltau(p, y).statistic, abs=1e-6)
    assert s.compute().item() == pytest.approx(stats.spearmanr(p, y).statistic, abs=1e-6)


def test_golden_pass_rate():
    m = GoldenPassRate()
    score = torch.tensor([4.5, 4.2, 1.0, 2.0, 3.5])
    pred = torch.tensor([3.0, 2.9, 2.99, 3.0, 0.0])  # pass, fail, pass, fail, ignored (not golden)
    m.update(pred, score, score >= 4.0)
    assert m.compute().item() == pytest.approx(0.5)


def _model(name: str, **overrides):
    cfg = OmegaConf.load(CONF / f"{name}.yaml")
    cfg.merge_with(OmegaConf.create(overrides))
    return instantiate(cfg)


def _trainer(tmp_path, epochs: int) -> L.Trainer:
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=L.pytorch.loggers.TensorBoardLogger(tmp_path),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )


def test_mlp_trains_and_logs_every_split(tmp_path):
    torch.manual_seed(0)
    model, dm = _model("mlp"), FakeDataModule(n_train=1024, n_eval=256)
    before = _trainer(tmp_path, 1).validate(model, datamodule=dm, verbose=False)[0]
    trainer = _trainer(tmp_path, 8)
    trainer.fit(model, datamodule=dm)
    logged = trainer.callback_metrics
    for split in ("val", "golden"):
        for name in ("loss", "mae", "spearman", "kendall", "pairwise_acc"):
            assert f"{split}/{name}" in logged, f"{split}/{name} not logged"
    assert "golden/pass_rate" in logged and "val/pass_rate" not in logged
    assert "train/loss" in logged
    assert logged["val/loss"] < 0.7 * before["val/loss"]
    assert logged["val/pairwise_acc"] > 0.7
    tested = trainer.test(model, datamodule=dm, verbose=False)
    keys = set().union(*tested)
    assert {"test_seen/pairwise_acc", "test_unseen/pairwise_acc", "test_golden/pass_rate"} <= keys


def test_training_loss_parts_are_epoch_means_weighted_by_pairs():
    # The parts are summed in training_step and logged once an epoch: the value self.log(on_epoch=True)
    # gave per step before, the mean over the epoch's pairs.
    torch.manual_seed(0)
    model = _model("coupling")
    batches = [fake_batch(24, seed=1), fake_batch(8, seed=2)]
    logged = {}
    model.log = lambda name, value, **kw: logged.__setitem__(name, float(value.detach()))
    model.eval()  # no dropout: the parts can be computed again below
    model.on_train_epoch_start()
    for i, batch in enumerate(batches):
        model.training_step(batch, i)
    model.on_train_epoch_end()
    assert {"train/loss_score", "train/loss_rank", "train/loss_st", "train/loss_render"} <= set(logged)
    with torch.no_grad():
        expected = sum(float(model.loss(model.net(b), b)["score"]) * len(b["score"]) for b in batches) / 32
    assert logged["train/loss_score"] == pytest.approx(expected, rel=1e-5)
    assert logged["train/loss_score"] != pytest.approx(sum(float(model.loss(model.net(b), b)["score"]) for b in batches) / 2)


def test_mlp_inputs_and_order():
    batch = fake_batch(32)
    for inputs in ("static", "render", "both"):
        net = _model("mlp", net={"inputs": inputs}).net.eval()
        out = net(batch)["score"]
        assert out.shape == (32,) and (out >= 0).all() and (out <= 5).all()
    swapped = {**batch, "fg_static": batch["bg_static"], "bg_static": batch["fg_static"]}
    assert not torch.allclose(net(batch)["score"], net(swapped)["score"])
    with pytest.raises(ValueError, match="inputs"):
        _model("mlp", net={"inputs": "pixels"})


def test_training_forward_and_loss_trace_as_one_graph():
    # compile_training only pays when Dynamo sees one graph: no host syncs or data-dependent shapes in the
    # coupling net and its loss in training mode (render dropout, the predictor's statistics, path weights).
    model = _model("coupling").train()
    explained = torch._dynamo.explain(model._net_and_loss)(fake_batch(36, seed=3))
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1


@pytest.mark.slow
def test_compiled_training_fits_and_matches_eager(tmp_path):
    torch.manual_seed(0)
    model = _model("coupling", compile_training=True)
    batch = fake_batch(64, seed=4)
    model.eval()  # no dropout: compiled and eager losses comparable
    with torch.no_grad():
        eager = model._net_and_loss(batch)["loss"]
        compiled = model._training_losses(batch)["loss"]
    torch.testing.assert_close(compiled, eager, atol=1e-5, rtol=1e-5)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=6, limit_val_batches=2, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(model, datamodule=FakeDataModule(n_train=384, n_eval=64))
    assert model._compiled_step is not None and torch.isfinite(trainer.callback_metrics["train/loss"])
