"""aivj style pick: a pack's pairs re-ranked from the coupling model's pair scores and the music's style."""

from __future__ import annotations

import csv
import io

import lightning
import numpy as np
import pytest
import soundfile as sf
import torch

from aivj.inference import load_scorer
from aivj.style.cli import main as style_cli
from aivj.style.module import StyleModule
from aivj.style.pick import rank_pack
from aivj.style.visuals import blend, load_mapping, preset_tags
from tests.test_export_pairs_quality import make_pack

LABELS = ["techno", "drum_and_bass", "hiphop", "ambient", "classical", "rock"]


@pytest.fixture
def style_ckpt(tmp_path):
    """An untrained style model as a checkpoint file (pick's arithmetic does not depend on its skill)."""
    torch.manual_seed(0)
    module = StyleModule(labels=LABELS, arch="cnn")
    path = tmp_path / "style.ckpt"
    state = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams)}
    torch.save({**state, "pytorch-lightning_version": lightning.__version__, "epoch": 0}, path)
    return path


@pytest.fixture
def music(tmp_path):
    t = np.arange(3 * 22050) / 22050
    path = tmp_path / "music.ogg"
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 110 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32), 22050)
    return path


def test_the_mapping_blends_by_probability_and_names_every_style():
    mapping = load_mapping()
    assert set(LABELS) <= set(mapping)
    ambient = blend(np.eye(6)[3], LABELS, mapping)
    assert ambient.ranges["coupling"] == tuple(mapping["ambient"]["coupling"])
    half = blend(np.array([0.5, 0, 0, 0.5, 0, 0]), LABELS, mapping)
    lo = (mapping["techno"]["coupling"][0] + mapping["ambient"]["coupling"][0]) / 2
    assert half.ranges["coupling"][0] == pytest.approx(lo, abs=1e-3)
    assert ambient.coupling_fit(sum(ambient.ranges["coupling"]) / 2) == 1.0 and ambient.coupling_fit(1.5) == 0.0


def test_preset_tags_follow_the_generators_rules():
    code = {f"per_frame_{i}": "x=1;" for i in range(1, 6)}
    assert preset_tags({"rot": "0.5", "warp": "2.0", **code}) == {"spiral"}
    assert preset_tags({"warp": "6", "fdecay": "0.95", "nwavemode": "4", **code}) == {"explosive", "chaotic", "wave"}
    assert preset_tags({"zoom": "0.7", "shapecode_1_enabled": "1"}) == {"implosive", "minimal", "shapecode"}


def test_pick_ranks_by_pair_quality_and_style_fit(tmp_path, style_ckpt, music, capsys):
    pack = make_pack(tmp_path, n=8, missing=(3,), broken=())
    scorer = load_scorer("champion")
    scored = scorer.score_pack(pack)
    quality = dict(zip(scored.pair_ids, np.clip(scored.scores / 5, 0, 1)))

    assert style_cli(["pick", "--audio", str(music), "--pack", str(pack), "-k", "5", "--model", str(style_ckpt)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 5 and [int(r["rank"]) for r in rows] == [1, 2, 3, 4, 5]
    finals = [float(r["final"]) for r in rows]
    assert finals == sorted(finals, reverse=True)
    for r in rows:
        assert int(r["pair"]) != 3  # its FG file is missing
        assert float(r["quality01"]) == pytest.approx(quality[int(r["pair"])], abs=1e-3)

    # with the style's weight at 1 and full confidence, the rank is the visual fit alone
    profile = blend(np.eye(6)[5], LABELS, load_mapping())
    profile.style_weight = 1.0
    ranked = rank_pack(pack, scorer, profile, confidence=1.0, categories={})
    for r in ranked:
        visual = r.style_fit if r.coupling is None else 0.6 * r.style_fit + 0.4 * profile.coupling_fit(r.coupling)
        assert r.final == pytest.approx(visual)
