"""score_block (every FG against every BG, a pack's candidates) against score_pairs of the same pairs,
in torch and as block.onnx in onnxruntime."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from coupling.nets import coupling_net
from coupling.nets.coupling_net import DualLayerCouplingNetwork, block_tiles
from tests.conftest import ROOT
from tests.helpers.fake_batches import fake_presets
from tests.test_export_pairs_quality import checkpoint as tiny_checkpoint  # noqa: F401  (a module-scoped fixture)

ALL_OUTPUTS = ("score", "spatial", "temporal", "w_s", "w_t", "rank", "f_fg", "f_bg")


def _cache(net, n: int, seed: int = 0) -> torch.Tensor:
    p = fake_presets(n, seed=seed)
    with torch.no_grad():
        return net.encode_presets(p["static"], p["render"], p["has_render"])


def _pairs(net, enc, fg, bg, outputs: tuple[str, ...] | None = ALL_OUTPUTS) -> dict[str, torch.Tensor]:
    """The reference: the same candidates as a list of pairs, row f column b at f * B + b."""
    with torch.no_grad():
        out = net.score_pairs(enc, fg.repeat_interleave(len(bg)), bg.repeat(len(fg)), outputs)
    return {k: v.unflatten(0, (len(fg), len(bg))) for k, v in out.items()}


@pytest.mark.parametrize(
    "kw, nf, nb, tile, outputs",
    [
        ({}, 37, 23, 4096, ALL_OUTPUTS),  # one tile
        ({}, 37, 23, 100, ALL_OUTPUTS),  # tiles of unequal sizes at both edges
        ({}, 1, 9, 4, ("score",)),  # a single FG row, tiles of a few columns
        ({"heads": 2, "dim": 16, "inputs": "static"}, 12, 30, 64, ALL_OUTPUTS),  # other head size and token count
        ({"heads": 8, "dim": 32, "encoder_layers": 0}, 20, 20, 50, ALL_OUTPUTS),
        ({"coupling_head": True, "heads": 1}, 13, 13, 16, None),  # every output, the coupling head's [F, B, 5] too
        ({"blocks": 2}, 9, 11, 4096, ALL_OUTPUTS),  # two blocks: through score_pairs, reshaped
        ({"blocks": 0}, 9, 11, 4096, ALL_OUTPUTS),  # the no-attention ablation: the same
    ],
)
def test_score_block_equals_score_pairs(kw, nf, nb, tile, outputs, monkeypatch):
    monkeypatch.setenv("AIVJ_PURE_PYTHON", "1")  # the block formula in torch, as block.onnx runs it
    torch.manual_seed(len(kw))
    net = DualLayerCouplingNetwork(**kw).eval()
    enc = _cache(net, 50)
    g = torch.Generator().manual_seed(nf * nb)
    fg, bg = torch.randint(0, 50, (nf,), generator=g), torch.randint(0, 50, (nb,), generator=g)
    with torch.no_grad():
        got = net.score_block(enc, fg, bg, outputs, tile=tile)
    want = _pairs(net, enc, fg, bg, outputs)
    assert set(got) == set(want)
    for k in want:
        assert got[k].shape == want[k].shape, k
        torch.testing.assert_close(got[k], want[k], atol=2e-6, rtol=1e-5, msg=k)


def test_score_block_with_the_c_attention_scores_the_cross_product(monkeypatch):
    monkeypatch.delenv("AIVJ_PURE_PYTHON", raising=False)
    net = DualLayerCouplingNetwork().eval()
    enc = _cache(net, 30)
    fg, bg = torch.arange(0, 17), torch.arange(5, 30)
    assert net._native_pairs(enc.detach()) is (coupling_net._pair_attention is not None) or torch.is_grad_enabled()
    with torch.no_grad():
        got = net.score_block(enc, fg, bg, ("score", "rank"))
        monkeypatch.setenv("AIVJ_PURE_PYTHON", "1")
        block = net.score_block(enc, fg, bg, ("score", "rank"))
    for k in got:
        assert got[k].shape == (17, 25)
        torch.testing.assert_close(got[k], block[k], atol=2e-6, rtol=1e-5)


def test_score_block_of_no_candidates(monkeypatch):
    monkeypatch.setenv("AIVJ_PURE_PYTHON", "1")
    net = DualLayerCouplingNetwork().eval()
    enc = _cache(net, 5)
    with torch.no_grad():
        out = net.score_block(enc, torch.tensor([], dtype=torch.long), torch.tensor([1, 2]), ("score",))
    assert out["score"].shape == (0, 2)


def test_a_nan_preset_spoils_only_its_own_pairs(monkeypatch):
    # The block formula shares GEMMs across the tile; a NaN in one preset's cache row must not reach others.
    monkeypatch.setenv("AIVJ_PURE_PYTHON", "1")
    torch.manual_seed(1)
    net = DualLayerCouplingNetwork().eval()
    enc = _cache(net, 12)
    enc[3] = float("nan")
    fg, bg = torch.arange(12), torch.arange(12)
    with torch.no_grad():
        score = net.score_block(enc, fg, bg, ("score",))["score"]
    bad = torch.zeros(12, 12, dtype=torch.bool)
    bad[3, :], bad[:, 3] = True, True
    assert score[bad].isnan().all() and score[~bad].isfinite().all()
    enc[3] = _cache(net, 12)[3]
    with torch.no_grad():
        clean = net.score_block(enc, fg, bg, ("score",))["score"]
    torch.testing.assert_close(score[~bad], clean[~bad])


@pytest.mark.parametrize(
    "nf, nb, tile",
    [(100, 100, 4096), (1, 1, 4096), (5000, 1, 4096), (7, 3000, 4096), (33, 65, 100), (4033, 4033, 4096), (13, 13, 16)],
)
def test_block_tiles_cover_the_block_within_the_tile(nf, nb, tile):
    fg_parts, bg_parts = block_tiles(nf, nb, tile)
    rows = [len(r) for r in np.array_split(np.arange(nf), fg_parts)]
    cols = [len(c) for c in np.array_split(np.arange(nb), bg_parts)]
    assert sum(rows) == nf and sum(cols) == nb
    assert max(rows) * max(cols) <= tile  # every tile within the limit
    assert max(rows) - min(rows) <= 1 and max(cols) - min(cols) <= 1  # near-equal: no 1-wide leftovers
    assert fg_parts * bg_parts == -(-nf * nb // tile) or max(rows) * max(cols) > tile // 4  # not needlessly small


def test_block_tiles_refuse_an_empty_tile():
    with pytest.raises(ValueError, match="tile must be at least 1"):
        block_tiles(10, 10, 0)


def test_the_champions_block_scores_equal_its_pair_scores(monkeypatch):
    # The shipped champion on real presets (data/default's static features: the export path's inputs).
    from aivj.inference import load_scorer

    monkeypatch.setenv("AIVJ_REGISTRY", str(ROOT / "build" / "no-such-registry"))
    monkeypatch.setenv("AIVJ_PURE_PYTHON", "1")
    scorer = load_scorer("champion")
    feats = pq.read_table(ROOT / "data" / "default" / "presets.parquet", columns=["features"]).column("features")
    static = np.asarray(feats.slice(0, 80).to_pylist(), np.float32)
    enc = scorer.encode_presets(static)
    fg, bg = torch.arange(0, 45), torch.arange(30, 80)
    with torch.no_grad():
        got = scorer.net.score_block(enc, fg, bg, ("score",), tile=512)["score"]
    want = _pairs(scorer.net, enc, fg, bg, ("score",))["score"]
    torch.testing.assert_close(got, want, atol=2e-6, rtol=1e-5)
    np.testing.assert_allclose(scorer.score_block(enc, fg.numpy(), bg.numpy()), want.numpy(), atol=2e-6, rtol=1e-5)


@pytest.mark.slow
def test_block_onnx_matches_torch_for_any_block(tmp_path):
    import onnxruntime as ort

    from aivj.inference.onnx import PAIR_OUTPUTS, export_block_onnx, score_block_onnx

    torch.manual_seed(0)
    net = DualLayerCouplingNetwork().eval()
    session = ort.InferenceSession(str(export_block_onnx(net, tmp_path)), providers=["CPUExecutionProvider"])
    enc = _cache(net, 120, seed=3)
    for nf, nb, tile in ((1, 1, 4096), (1, 6, 4096), (37, 23, 4096), (70, 90, 1000), (2, 120, 50)):
        fg, bg = torch.randperm(120)[:nf], torch.randperm(120)[:nb]
        got = score_block_onnx(session, enc.numpy(), fg.numpy(), bg.numpy(), tile)
        want = _pairs(net, enc, fg, bg, PAIR_OUTPUTS)
        for k in PAIR_OUTPUTS:
            assert got[k].shape == (nf, nb)
            assert np.abs(got[k] - want[k].numpy()).max() < 1e-5, (k, nf, nb)


def test_block_onnx_needs_one_block(tmp_path):
    from aivj.inference.onnx import export_block_onnx

    with pytest.raises(ValueError, match="one cross-attention block"):
        export_block_onnx(DualLayerCouplingNetwork(blocks=2), tmp_path)


@pytest.mark.slow
def test_aivj_export_onnx_writes_the_cached_graphs_of_the_champion(tmp_path, monkeypatch, capsys):
    import onnxruntime as ort

    from aivj.export.cli import main as export_cli
    from aivj.inference import load_scorer
    from aivj.inference.onnx import score_block_onnx

    monkeypatch.setenv("AIVJ_REGISTRY", str(ROOT / "build" / "no-such-registry"))  # the shipped champion
    assert export_cli(["onnx", "--out", str(tmp_path / "pair.onnx"), "--cached", str(tmp_path / "cached")]) == 0
    assert sorted(p.name for p in (tmp_path / "cached").iterdir()) == ["block.onnx", "encoder.onnx", "pairs.onnx"]
    assert "block.onnx checked against torch" in capsys.readouterr().out
    scorer = load_scorer("champion")
    feats = pq.read_table(ROOT / "data" / "default" / "presets.parquet", columns=["features"]).column("features")
    static = np.asarray(feats.slice(0, 30).to_pylist(), np.float32)
    enc = ort.InferenceSession(str(tmp_path / "cached" / "encoder.onnx")).run(
        None, {"static": static, "render": np.zeros((30, 96), np.float32), "has_render": np.zeros(30, np.float32)}
    )[0]
    block = ort.InferenceSession(str(tmp_path / "cached" / "block.onnx"))
    got = score_block_onnx(block, enc, np.arange(30), np.arange(30))["score"]
    want = _pairs(scorer.net, scorer.encode_presets(static), torch.arange(30), torch.arange(30), ("score",))["score"]
    assert np.abs(got - want.numpy()).max() < 1e-4


def test_aivj_export_onnx_cached_refuses_a_net_without_a_cache_and_writes_nothing(
    tmp_path,
    tiny_checkpoint,  # noqa: F811  (the fixture imported above)
    capsys,
    monkeypatch,
):
    from aivj.export.cli import main as export_cli
    from tests.helpers.tiny_module import trust_test_helpers

    trust_test_helpers(monkeypatch)

    out, cached = tmp_path / "pair.onnx", tmp_path / "cached"
    assert export_cli(["onnx", "--model", str(tiny_checkpoint), "--out", str(out), "--cached", str(cached)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aivj export: ") and "no preset cache" in err and len(err.splitlines()) == 1
    assert not out.exists() and not cached.exists()


def test_aivj_export_onnx_cached_refuses_an_out_it_would_overwrite(tmp_path, capsys, monkeypatch):
    from aivj.export.cli import main as export_cli

    monkeypatch.setenv("AIVJ_REGISTRY", str(ROOT / "build" / "no-such-registry"))
    cached = tmp_path / "cached"
    assert export_cli(["onnx", "--out", str(cached / "pairs.onnx"), "--cached", str(cached)]) == 2
    assert "would be overwritten" in capsys.readouterr().err
    assert not cached.exists()
