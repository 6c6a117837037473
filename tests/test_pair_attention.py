"""The pair scorer's pooled attention in C (coupling/nets/_pair_attention.c) against the torch one it stands in for."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import torch

from coupling.nets import coupling_net
from coupling.nets.coupling_net import DualLayerCouplingNetwork
from tests.helpers.fake_batches import fake_presets

ROOT = Path(__file__).resolve().parents[1]
ALL_OUTPUTS = ("score", "spatial", "temporal", "w_s", "w_t", "rank")


def _scores(net, enc, fg, bg, monkeypatch, native: bool) -> dict[str, torch.Tensor]:
    with monkeypatch.context() as m:
        if native:
            m.delenv("AIVJ_PURE_PYTHON", raising=False)
        else:
            m.setenv("AIVJ_PURE_PYTHON", "1")
        with torch.inference_mode():
            assert net._native_pairs(enc) is native
            return net.score_pairs(enc, fg, bg, outputs=ALL_OUTPUTS, chunk=64)


def test_extension_is_built():
    # make test installs gcc and the Python headers (sysdeps) before the venv, so setup.py must have built it.
    assert coupling_net._pair_attention is not None, (
        "coupling/nets/_pair_attention not built: install gcc and python3-dev (make sysdeps), "
        "then .venv/bin/pip install -c constraints.txt -e . --no-deps"
    )


@pytest.mark.parametrize(
    "module, source",
    [
        ("coupling.nets._pair_attention", "coupling/nets/_pair_attention.c"),
        ("aivj.milk._milkscan", "aivj/milk/_milkscan.c"),
        ("aivj.milk._milkcount", "aivj/milk/_milkcount.c"),
    ],
)
def test_extensions_are_newer_than_their_sources(module, source):
    # setup.py's extensions are optional: a C file that stopped compiling leaves the old build in place,
    # and the tests would run that. A build older than its source means: rebuild (and see it compile).
    built = Path(importlib.import_module(module).__file__)
    assert built.stat().st_mtime >= (ROOT / source).stat().st_mtime, (
        f"{built.name} is older than {source}: rebuild with .venv/bin/pip install -c constraints.txt --no-deps -e ."
    )


# The default network (9 tokens, d_k 8: the unrolled path), other token counts and head sizes (the generic
# path), and pair counts that leave a partial block of 16 lanes.
@pytest.mark.parametrize(
    "kw, pairs",
    [
        ({}, 1000),
        ({}, 37),
        ({"inputs": "static"}, 53),
        ({"inputs": "render", "heads": 2}, 40),
        ({"dim": 48, "heads": 4}, 17),
        ({"dim": 16, "heads": 1, "render_predictor": True}, 5),
    ],
)
def test_native_equals_torch(kw, pairs, monkeypatch):
    torch.manual_seed(0)
    net = DualLayerCouplingNetwork(**kw).eval()
    p = fake_presets(30, seed=4)
    with torch.inference_mode():
        enc = net.encode_presets(p["static"], p["render"], p["has_render"])
    g = torch.Generator().manual_seed(pairs)
    fg, bg = torch.randint(0, 30, (pairs,), generator=g), torch.randint(0, 30, (pairs,), generator=g)
    native = _scores(net, enc, fg, bg, monkeypatch, native=True)
    reference = _scores(net, enc, fg, bg, monkeypatch, native=False)
    for key in ALL_OUTPUTS:
        torch.testing.assert_close(native[key], reference[key], atol=2e-6, rtol=1e-5)
    assert native["score"].std() > 1e-3  # the pairs differ, so a kernel that ignored its inputs would fail above


def test_large_logits_stay_finite(monkeypatch):
    # Keys far apart in size: softmax rows near one-hot, exponents down to the clamp; still the torch result.
    torch.manual_seed(1)
    net = DualLayerCouplingNetwork().eval()
    p = fake_presets(12, seed=5)
    with torch.inference_mode():
        enc = net.encode_presets(p["static"] * 40, p["render"], p["has_render"])
    fg, bg = torch.arange(12).repeat(12), torch.arange(12).repeat_interleave(12)
    native = _scores(net, enc, fg, bg, monkeypatch, native=True)
    reference = _scores(net, enc, fg, bg, monkeypatch, native=False)
    assert torch.isfinite(native["score"]).all()
    torch.testing.assert_close(native["score"], reference["score"], atol=1e-5, rtol=1e-5)


def test_autograd_and_attention_maps_use_torch():
    net = DualLayerCouplingNetwork().eval()
    enc = torch.zeros(4, 2, 1184)
    with torch.enable_grad():
        assert not net._native_pairs(enc)
    with torch.inference_mode():
        assert net._native_pairs(enc) is (coupling_net._pair_attention is not None)
        assert not net._native_pairs(enc.double())
        net.blocks[0].fg_from_bg.keep_attention = True
        assert not net._native_pairs(enc)


def test_kernel_refuses_bad_input():
    kernel = coupling_net._pair_attention
    enc = np.zeros((5, 2, 1184), np.float32)
    out = np.zeros((2, 32), np.float32)
    ok = np.array([0, 4], np.int64)
    kernel.pooled(enc, ok, ok, out, out.copy(), 4, 9, 8, 320, 608, 896)
    with pytest.raises(IndexError, match="names preset"):
        kernel.pooled(enc, np.array([0, 5], np.int64), ok, out, out.copy(), 4, 9, 8, 320, 608, 896)
    with pytest.raises(IndexError, match="names preset"):
        kernel.pooled(enc, ok, np.array([-1, 0], np.int64), out, out.copy(), 4, 9, 8, 320, 608, 896)
    with pytest.raises(ValueError, match="Q, K and V inside"):
        kernel.pooled(enc, ok, ok, out, out.copy(), 4, 9, 8, 320, 608, 1184)
    with pytest.raises(ValueError, match="number of pairs"):
        kernel.pooled(enc, ok, ok, np.zeros((3, 32), np.float32), out, 4, 9, 8, 320, 608, 896)
    with pytest.raises(TypeError, match="enc"):
        kernel.pooled(enc.astype(np.float64), ok, ok, out, out.copy(), 4, 9, 8, 320, 608, 896)
    with pytest.raises(ValueError, match="tokens"):
        kernel.pooled(enc, ok, ok, out, out.copy(), 4, 99, 8, 0, 0, 0)
    # Sizes and offsets that would wrap around in the bounds arithmetic.
    with pytest.raises(ValueError, match="tokens"):
        kernel.pooled(enc, ok, ok, out, out.copy(), 4, 32, 2**27 + 1, 0, 0, 0)
    with pytest.raises(ValueError, match="Q, K and V inside"):
        kernel.pooled(enc, ok, ok, out, out.copy(), 4, 9, 8, 2**63 - 10, 608, 896)
    with pytest.raises(ValueError, match="Q, K and V inside"):
        kernel.pooled(enc, ok, ok, out, out.copy(), 2**30, 9, 8, 0, 0, 0)


def test_kernel_uses_the_indices_it_checked():
    # An output that overlaps the index array: the outputs land in it, and the reads stay on the
    # indices as they were checked (a crash before the private copy).
    kernel = coupling_net._pair_attention
    enc = np.ones((3, 2, 4), np.float32)
    fg = np.zeros(16, np.int64)
    kernel.pooled(enc, fg, np.ones(16, np.int64), fg.view(np.float32).reshape(16, 2), np.zeros((16, 2), np.float32),
                  1, 1, 2, 0, 0, 2)  # fmt: skip
    assert (fg.view(np.float32) == 1.0).all()  # one key, so each output is that key's value row: ones


def test_nan_in_the_cache_stays_nan(monkeypatch):
    net = DualLayerCouplingNetwork().eval()
    p = fake_presets(6, seed=6)
    with torch.no_grad():
        enc = net.encode_presets(p["static"], p["render"], p["has_render"])
    start = net.dim + net.n_tokens * net.dim
    enc[2, 0, start + 5] = float("nan")  # one Q value of preset 2 as FG, nothing else
    fg, bg = torch.tensor([2, 3, 2]), torch.tensor([1, 2, 4])
    native = _scores(net, enc, fg, bg, monkeypatch, native=True)["score"]
    reference = _scores(net, enc, fg, bg, monkeypatch, native=False)["score"]
    assert torch.isnan(reference[[0, 2]]).all() and torch.isnan(native[[0, 2]]).all()
    torch.testing.assert_close(native[1], reference[1])


def test_default_dtype_does_not_reach_the_kernel(monkeypatch):
    net = DualLayerCouplingNetwork().eval()
    p = fake_presets(5, seed=7)
    with torch.inference_mode():
        enc = net.encode_presets(p["static"], p["render"], p["has_render"])
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.inference_mode():
            out = net.score_pairs(enc, torch.tensor([0, 1]), torch.tensor([2, 3]), outputs=("score",))
    finally:
        torch.set_default_dtype(old)
    assert out["score"].shape == (2,) and torch.isfinite(out["score"]).all()
