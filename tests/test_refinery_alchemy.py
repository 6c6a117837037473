"""Audio programs, alchemy pairing rules, pack manifests and the pairs/eval tables (no projectM)."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest

from aivj.contract.schema import PAIRS_SCHEMA
from aivj.milk.audio import PROGRAMS, frame_envelope, make_audio
from aivj.milk.parser import parse_milk
from aivj.refinery import alchemy, scoring
from aivj.refinery.packs import read_manifest
from aivj.refinery.tables import eval_rows, pairs_table

SPIRAL = (
    "[preset00]\nfDecay=0.95\nwarp=2.0\nrot=0.5\nzoom=1.0\ncx=0.5\nper_frame_1=wave_r=0.5;\nper_pixel_1=zoom=zoom+0.01*rad;\n"
)
EXPLOSIVE = "[preset00]\nfDecay=0.97\nwarp=4.0\nrot=0.0\nzoom=1.05\ncx=0.5\nnWaveMode=1\nper_frame_1=wave_b=0.2;\n"


def test_audio_programs_are_deterministic_and_distinct():
    n = 44100
    a = {p: make_audio(p, n) for p in PROGRAMS}
    for p in PROGRAMS:
        assert np.array_equal(a[p], make_audio(p, n)) and a[p].dtype == np.float32 and np.abs(a[p]).max() <= 1.0
    assert not np.allclose(a["techno"], a["breakbeat"])
    env = frame_envelope(a["techno"], 1292)
    assert env[::16].mean() > 1.5 * env[8::16].mean()  # kicks on the beat grid (16 frames per beat)


def test_wav_input(tmp_path):
    x = (np.sin(np.arange(22050) / 10) * 16000).astype(np.int16)
    path = tmp_path / "a.wav"
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1), fh.setsampwidth(2), fh.setframerate(22050), fh.writeframes(x.tobytes())
    y = make_audio(str(path), 60000)
    assert y.shape == (60000,) and np.abs(y).max() == pytest.approx(0.9, abs=1e-3)
    with pytest.raises(ValueError, match="bad.wav"):
        (tmp_path / "bad.wav").write_bytes(b"nope")
        make_audio(str(tmp_path / "bad.wav"), 10)


def test_alchemy_follows_the_pairing_rules(tmp_path):
    seeds = []
    for name, text in (("spiral", SPIRAL), ("explosive", EXPLOSIVE)):
        (tmp_path / f"{name}.milk").write_text(text)
        seeds.append(str(tmp_path / f"{name}.milk"))
    manifest = alchemy.generate(seeds, tmp_path / "pack", 12, seed=3, couple_fraction=0.5)
    rows = [json.loads(x) for x in manifest.read_text().splitlines()]
    assert len(rows) == 12 and any("coupled" in r["strategy"] for r in rows) and any("coupled" not in r["strategy"] for r in rows)
    for r in rows:
        fg = parse_milk((tmp_path / "pack" / r["fg"]).read_text())
        bg = parse_milk((tmp_path / "pack" / r["bg"]).read_text())
        if r["bg_style"] == "spiral":
            assert r["fg_style"] == "explosive"  # style matrix
        assert abs(fg.value("cx", 0) - bg.value("cx", 0)) == pytest.approx(0.05, abs=1e-5)
        assert fg.value("fdecay", 0) == pytest.approx(bg.value("fdecay", 0) - 0.05, abs=1e-5)
        assert fg.value("rot", 0) == pytest.approx(-bg.value("rot", 0), abs=0.1 + 1e-6)
        ratio = fg.value("warp", 0) / bg.value("warp", 1)
        assert 1 + r["strength"] * 0.3 - 1e-4 <= ratio <= 1 + r["strength"] + 1e-4
        coupled = any("sin(" in line and line.startswith("cx") for line in fg.per_frame)
        assert coupled == ("coupled" in r["strategy"])
    assert [x["pair"] for x in read_manifest(tmp_path / "pack")] == list(range(12))


def test_manifest_with_foreign_absolute_paths(tmp_path):
    (tmp_path / "fg").mkdir(), (tmp_path / "bg").mkdir()
    (tmp_path / "fg" / "x_fg.milk").write_text(SPIRAL)
    (tmp_path / "bg" / "x_bg.milk").write_text(EXPLOSIVE)
    (tmp_path / "manifest.jsonl").write_text(
        json.dumps({"pair": 7, "fg": "D:\\aidata\\p\\fg\\x_fg.milk", "bg": "/mnt/d/aidata/p/bg/x_bg.milk"}) + "\n"
    )
    (row,) = read_manifest(tmp_path)
    assert row["pair"] == 7 and row["fg"] == tmp_path / "fg" / "x_fg.milk" and row["bg"].exists()


def test_tables_follow_the_schema():
    n = 5
    rng = np.random.default_rng(0)
    res = {
        "score": np.array([4.5, 1.0, 3.2, 2.0, 4.0]),
        "spatial_score": rng.random(n),
        "temporal_score": rng.random(n),
        "sample_luma": rng.random((n, 6)),
        "sample_motion": rng.random((n, 6)) * 1e-3,
        "sample_luma_fg": rng.random((n, 6)),
        "sample_luma_bg": rng.random((n, 6)),
        "sample_score": rng.random((n, 6)),
    }
    ids = [f"{i:020x}" for i in range(n)]
    t = pairs_table("p", np.arange(n), ids, ids[::-1], res, "test", "train")
    assert (
        t.schema.equals(PAIRS_SCHEMA)
        and t["rank"].to_pylist()[0] == 1
        and t["is_elite"].to_pylist() == [True, False, False, False, True]
    )
    rows = list(eval_rows("p", np.arange(n), ids, ids, res, np.ones(6), np.ones(6)))
    assert len(rows) == 6 * n and rows[0]["tMs"] == 500 and rows[0]["quality01"] == pytest.approx(0.9)
    need = {
        "tMs",
        "pack",
        "pair",
        "presetFgId",
        "presetBgId",
        "vizAvgLuma",
        "vizAvgFrameDelta",
        "pmAvgLumaFg",
        "okHeuristic",
        "reasons",
    }
    assert need <= rows[0].keys()
    assert scoring.SCORE_VERSION >= 1
