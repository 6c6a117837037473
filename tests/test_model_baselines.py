"""Baselines (linear_st, gbdt) through CouplingLitModule, the model configs, and the ONNX export."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tests.helpers.fake_batches import FakeDataModule, fake_batch, fake_presets

CONF = Path(__file__).resolve().parents[1] / "conf"


def _model(name: str):
    cfg = OmegaConf.load(CONF / "model" / f"{name}.yaml")
    # a model file in the global package (gbdt: it also sets trainer options) nests itself under `model`
    return instantiate(cfg.model if "model" in cfg else cfg)


def _trainer(tmp_path, epochs: int, **kw) -> L.Trainer:
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        **kw,
    )


def test_every_model_config_builds_and_scores():
    batch = fake_batch(16)
    for name in ("mlp", "linear_st", "gbdt", "coupling"):
        module = _model(name)
        out = module.net.eval()(batch)
        assert out["score"].shape == (16,), name
        assert ((out["score"] >= 0) & (out["score"] <= 5)).all(), name


def test_linear_st_uses_global_weights():
    net = _model("linear_st").net.eval()
    out = net(fake_batch(16))
    assert out["w_s"].unique().numel() == 1 and out["w_t"].unique().numel() == 1
    expected = 5 * torch.sigmoid(out["w_s"] * out["spatial"] + out["w_t"] * out["temporal"] + out["rank_bias"])
    torch.testing.assert_close(out["score"], expected)


def test_gbdt_fits_once_stops_and_survives_a_checkpoint(tmp_path):
    from threadpoolctl import threadpool_limits

    module, dm = _model("gbdt"), FakeDataModule(n_train=1024, n_eval=256)
    module.net.model.set_params(max_iter=60)
    trainer = _trainer(tmp_path, 5, enable_checkpointing=False)
    with threadpool_limits(1):  # OpenMP threads crawl on a busy 2-core machine
        trainer.fit(module, datamodule=dm)
    assert module.net.fitted and trainer.current_epoch == 1  # one epoch, whatever max_epochs says
    assert trainer.callback_metrics["val/pairwise_acc"] > 0.7
    ckpt = tmp_path / "gbdt.ckpt"
    trainer.save_checkpoint(ckpt)
    fresh = _model("gbdt")
    fresh.on_load_checkpoint(torch.load(ckpt, weights_only=False))
    batch = fake_batch(64, seed=9)
    torch.testing.assert_close(fresh.net(batch)["score"], module.net(batch)["score"])


def test_linear_st_trains(tmp_path):
    torch.manual_seed(0)
    module, dm = _model("linear_st"), FakeDataModule(n_train=1024, n_eval=256)
    trainer = _trainer(tmp_path, 6, enable_checkpointing=False)
    trainer.fit(module, datamodule=dm)
    assert trainer.callback_metrics["val/pairwise_acc"] > 0.6


@pytest.mark.slow
def test_onnx_export_matches_onnxruntime_for_any_batch(tmp_path):
    import onnxruntime as ort

    from aivj.inference.onnx import export_split_onnx

    torch.manual_seed(0)
    net = _model("coupling").net.eval()
    enc_path, pair_path = export_split_onnx(net, tmp_path)
    enc_sess, pair_sess = ort.InferenceSession(str(enc_path)), ort.InferenceSession(str(pair_path))
    for n, p in ((5, 3), (40, 777)):
        pre = fake_presets(n, seed=n)
        fg, bg = torch.randint(0, n, (p,)), torch.randint(0, n, (p,))
        feed = {"static": pre["static"].numpy(), "render": pre["render"].numpy(), "has_render": pre["has_render"].numpy()}
        enc = enc_sess.run(None, feed)[0]
        score = pair_sess.run(None, {"cache": enc, "fg_idx": fg.numpy(), "bg_idx": bg.numpy()})[0]
        with torch.no_grad():
            ref_enc = net.encode_presets(pre["static"], pre["render"], pre["has_render"])
            ref = net.score_pairs(ref_enc, fg, bg)["score"].numpy()
        assert score.shape == (p,)
        assert np.abs(enc - ref_enc.numpy()).max() < 1e-4 and np.abs(score - ref).max() < 1e-4
