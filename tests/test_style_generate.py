"""The labelled-audio generator: deterministic per (style, seed), split by track, counts that reconcile."""

from __future__ import annotations

import os

import numpy as np
import pytest

from aivj.style import DEFAULT_LABELS
from aivj.style.generate import GeneratorError, generate_corpus, generate_track, read_manifest
from aivj.style.recipes import RECIPES
from tests.helpers.style_corpus import PER_STYLE, SECONDS, style_corpus  # noqa: F401  (the session fixture)


def test_a_track_is_fixed_by_style_and_seed():
    a, meta_a = generate_track("rock", 7, 2.0)
    b, meta_b = generate_track("rock", 7, 2.0)
    c, _ = generate_track("rock", 8, 2.0)
    assert np.array_equal(a, b) and meta_a == meta_b
    assert not np.array_equal(a, c)
    assert a.shape == (2 * 22050,) and a.dtype == np.float32
    assert 0.05 < float(np.abs(a).max()) <= 1.0


def test_every_label_has_a_recipe_and_a_drum_kit_only_where_the_style_has_drums():
    assert set(RECIPES) == set(DEFAULT_LABELS)
    rng = np.random.default_rng
    drums = {s: np.mean([any(p.drum for p in RECIPES[s](rng(i), 4.0).parts) for i in range(20)]) for s in RECIPES}
    assert drums["techno"] == drums["drum_and_bass"] == drums["hiphop"] == drums["rock"] == 1.0
    assert drums["classical"] == 0.0 and drums["ambient"] < 0.6


def test_tempo_keys_and_instruments_vary_across_tracks_of_one_style():
    songs = [RECIPES["techno"](np.random.default_rng(i), 4.0) for i in range(12)]
    assert len({round(s.bpm) for s in songs}) >= 8
    assert len({s.key for s in songs}) >= 5
    assert len({tuple(p.program for p in s.parts) for s in songs}) >= 8


@pytest.mark.slow  # 18 fluidsynth renders, shared with test_style_train.py
def test_the_corpus_is_split_by_track_and_its_counts_reconcile(style_corpus):  # noqa: F811
    rows = read_manifest(style_corpus / "manifest.csv")
    assert len(rows) == PER_STYLE * len(DEFAULT_LABELS)
    assert all((style_corpus / r["file"]).is_file() for r in rows)
    assert len({r["file"] for r in rows}) == len(rows)  # one split per track
    for style in DEFAULT_LABELS:
        assert sorted(r["split"] for r in rows if r["style"] == style) == ["test", "train", "val"]


@pytest.mark.slow
def test_a_corpus_with_the_same_parameters_is_kept(style_corpus):  # noqa: F811
    manifest = style_corpus / "manifest.csv"
    before = os.stat(manifest).st_mtime_ns
    generate_corpus(style_corpus, DEFAULT_LABELS, PER_STYLE, SECONDS, seed=0, progress=False)
    assert os.stat(manifest).st_mtime_ns == before


def test_an_unknown_style_or_a_missing_soundfont_is_one_line(monkeypatch, tmp_path):
    with pytest.raises(GeneratorError, match="no recipe for style 'polka'"):
        generate_track("polka", 0, 1.0)
    monkeypatch.setattr("aivj.style.generate.SOUNDFONTS", (str(tmp_path / "none.sf2"),))
    with pytest.raises(GeneratorError, match="fluid-soundfont-gm"):
        generate_track("rock", 0, 1.0)
