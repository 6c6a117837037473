"""Export with renders: a pack of Debian presets the champion never trained on, rendered by the refinery.

Uses the shipped champion (models/, trained with renders) read-only, and a frame cache in a temp
folder. One black preset (the worker's own black preset) is in the pack: a dead layer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from aivj.export.cli import main as export_cli
from aivj.export.pairs_quality import std_stretch
from aivj.export.samples import unseen_debian_presets, write_pack
from aivj.refinery.native import missing_requirements

ROOT = Path(__file__).resolve().parents[1]
CHAMPION = (ROOT / "models" / "champion").read_text().strip()  # the shipped champion, trained with renders

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(missing_requirements()), reason="needs projectM (make test installs it)")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(pack, cache root, first export's meta, doc) after one export with --render auto."""
    from aivj.refinery.worker import BLACK_PRESET

    tmp = tmp_path_factory.mktemp("render_export")
    presets = unseen_debian_presets(ROOT / "data" / "default", 12, seed=3)
    black = tmp / "black.milk"
    black.write_text(BLACK_PRESET)
    pack = write_pack(tmp, presets + [black], n_pairs=80, seed=1)
    cache = tmp / "cache"
    mp = pytest.MonkeyPatch()
    mp.setenv("AIVJ_REGISTRY", str(tmp / "registry"))  # empty: the default champion is the shipped one
    try:
        rc = export_cli(
            ["pairs-quality", "--pack", str(pack), "--workers", "2", "--cache-dir", str(cache), "--preview", str(tmp / "preview")]
        )
    finally:
        mp.undo()
    assert rc == 0
    meta = json.loads((pack / "pairs-quality.v0.meta.json").read_text())
    doc = json.loads((pack / "pairs-quality.v0.json").read_text())
    return pack, cache, meta, doc, tmp


def refinery_scores(pack: Path, cache_root: Path, doc: dict) -> np.ndarray:
    """The refinery's score of each written pair, computed here from the cache (black frames for the dead)."""
    from aivj.export.renders import black_frames
    from aivj.inference.packs import read_pack, resolve
    from aivj.milk.hashing import content_hash
    from aivj.refinery.bank import PresetBank
    from aivj.refinery.cache import FrameCache
    from aivj.refinery.library import render_envelope
    from aivj.refinery.scoring import score_pairs
    from aivj.refinery.settings import RenderSettings

    cache = FrameCache(RenderSettings(), cache_root)
    ok = set(cache.ok_ids())
    ids = {}
    for pair, fg, bg in read_pack(pack).pairs:
        ids[pair] = [content_hash(resolve(pack, w, side).read_bytes()) for w, side in ((fg, "fg"), (bg, "bg"))]
    distinct = sorted({i for v in ids.values() for i in v})
    frames = ((i, cache.load_frames(i) if i in ok else black_frames(cache.settings)) for i in distinct)
    bank = PresetBank.from_frames(frames, render_envelope(cache), cache.settings.sample_frames(), cache.settings.steps_per_beat)
    index = bank.index()
    pairs = [p["pair"] for p in doc["pairs"]]
    return score_pairs(bank, [index[ids[p][0]] for p in pairs], [index[ids[p][1]] for p in pairs])["score"]


def black_pairs(pack: Path) -> set[int]:
    from aivj.inference.packs import read_pack

    return {p for p, fg, bg in read_pack(pack).pairs if "black.milk" in fg or "black.milk" in bg}


def pairwise(pred, true) -> float:
    from coupling.metrics import PairwiseAccuracy

    m = PairwiseAccuracy()
    m.update(torch.as_tensor(pred, dtype=torch.float32), torch.as_tensor(true, dtype=torch.float32))
    return float(m.compute())


def test_unseen_pack_ranks_like_the_refinery(rendered):
    pack, cache, meta, doc, _ = rendered
    assert meta["model"] == CHAMPION and meta["scoring_path"] == "render" and meta["render_mode"] == "auto"
    r = meta["renders"]
    assert r["distinct_presets"] == 13 and r["rendered"] + r["cached"] + r["failed"] == 13 and r["cached"] == 0
    assert r["failed"] == 1 and r["failed_by_status"] == {"black": 1}
    assert meta["pairs"]["in"] == meta["pairs"]["written"] + meta["pairs"]["set_aside"] == 80
    q = np.array([p["quality01"] for p in doc["pairs"]])
    truth = refinery_scores(pack, cache, doc)
    live = np.array([p["pair"] not in black_pairs(pack) for p in doc["pairs"]])
    assert live.sum() >= 50 and pairwise(q[live], truth[live]) >= 0.9  # the model's own ranking, dead pairs aside
    assert meta["agreement_with_refinery"]["pairs"] == live.sum()
    assert meta["agreement_with_refinery"]["pairwise_acc"] >= 0.9


def test_second_export_renders_nothing(rendered):
    pack, cache, meta, _, tmp = rendered
    status = next(cache.glob("*/status.jsonl"))
    lines = status.read_text().count("\n")
    out = tmp / "again.json"
    assert export_cli(["pairs-quality", "--pack", str(pack), "--workers", "2", "--cache-dir", str(cache), "--out", str(out)]) == 0
    again = json.loads((tmp / "again.meta.json").read_text())
    assert again["renders"]["rendered"] == 0 and again["renders"]["cached"] == 12 and again["renders"]["failed"] == 1
    assert status.read_text().count("\n") == lines  # nothing re-rendered, nothing re-recorded


def test_refinery_score_and_dead_layers(rendered):
    pack, cache, meta, doc, tmp = rendered
    out = tmp / "refinery.json"
    assert (
        export_cli(["pairs-quality", "--pack", str(pack), "--cache-dir", str(cache), "--score", "refinery", "--out", str(out)])
        == 0
    )
    ref_doc = json.loads(out.read_text())
    truth = refinery_scores(pack, cache, ref_doc)
    want = np.round(std_stretch(truth / 5.0), 6)
    assert np.abs(np.array([p["quality01"] for p in ref_doc["pairs"]]) - want).max() < 1e-6
    # pairs with the black preset carry the refinery's dead-layer score in the model export too
    dead = meta["pairs"]["with_dead_layer"]
    assert dead > 0 and len(meta["dead_presets"]) == 1 and "black.milk" in meta["dead_presets"][0]
    dead_pairs = black_pairs(pack)
    assert len(dead_pairs) == dead
    model_q = {p["pair"]: p["quality01"] for p in doc["pairs"]}
    stats = doc["qualityStats"]
    assert stats["std"] >= 0.03  # no stretch applied, so quality01 is score / 5 exactly
    for k, p in enumerate(ref_doc["pairs"]):
        if p["pair"] in dead_pairs:
            assert model_q[p["pair"]] == pytest.approx(truth[k] / 5.0, abs=1e-6)


def test_preview_sheet(rendered):
    _, _, _, doc, tmp = rendered
    text = (tmp / "preview" / "index.html").read_text()
    assert text.count("<figure>") == 48 and text.count("data:image/gif;base64,") == 48
    top = max(p["quality01"] for p in doc["pairs"])
    assert f"quality01 {top:.3f}" in text.split("<h2>")[1]  # the best pair opens the top section


def test_golden_sheet_from_cached_frames(rendered, tmp_path):
    from aivj.export.preview import golden_sheet

    _, cache, _, _, _ = rendered
    from aivj.refinery.cache import FrameCache
    from aivj.refinery.settings import RenderSettings

    ids = FrameCache(RenderSettings(), cache).ok_ids()
    preds = {
        "pred": np.linspace(0, 5, 6),
        "score": np.linspace(5, 0, 6),
        "split": ["golden"] * 5 + ["val"],
        "fg_id": ids[:6],
        "bg_id": ids[1:7],
    }
    out = golden_sheet(preds, tmp_path / "golden.html", cache_root=cache)
    assert out is not None and out.read_text().count("<figure>") == 5 + 0  # 5 golden: all top, none left for bottom
    assert golden_sheet({**preds, "fg_id": ["f" * 20] * 6}, tmp_path / "none.html", cache_root=cache) is None
    assert not (tmp_path / "none.html").exists()
