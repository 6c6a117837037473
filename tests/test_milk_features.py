"""The 64-dim feature vector, its documentation, pair terms, style tags and content hashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aivj.contract.schema import FEATURE_DIM
from aivj.milk.feature_spec import FEATURE_INDEX as I
from aivj.milk.features import FEATURE_NAMES, FEATURE_VERSION, extract_features
from aivj.milk.hashing import content_hash
from aivj.milk.pairs import PAIR_TERM_NAMES, pair_term_matrix, pair_terms, style_tags
from aivj.milk.parser import parse_milk
from aivj.milk.synthetic import synthetic_preset

DOCS = Path(__file__).resolve().parents[1] / "docs" / "features.md"


def test_vector_shape_range_and_names():
    assert len(FEATURE_NAMES) == FEATURE_DIM == 64 and isinstance(FEATURE_VERSION, int)
    feats = np.stack([extract_features(synthetic_preset(s)) for s in range(50)])
    assert feats.dtype == np.float32 and feats.shape == (50, 64)
    assert np.isfinite(feats).all() and feats.min() >= -1.0 and feats.max() <= 1.0
    assert (feats.std(axis=0) > 0).sum() >= 40  # the synthetic presets vary most dimensions


def test_every_dimension_is_documented():
    text = DOCS.read_text()
    missing = [n for n in FEATURE_NAMES if f"`{n}`" not in text]
    assert not missing and all(f"`{t}`" in text for t in PAIR_TERM_NAMES)


def test_defaults_map_to_neutral_values():
    f = extract_features(parse_milk("[preset00]\nfRating=1\n"))
    assert f[I["zoom"]] == 0 and f[I["rot"]] == 0 and f[I["cx"]] == 0 and f[I["sx"]] == 0
    assert f[I["decay"]] == pytest.approx(0.9) and f[I["per_frame_lines"]] == 0 and f[I["milkdrop2"]] == 0


def test_values_follow_the_documented_scaling():
    text = (
        "MILKDROP_PRESET_VERSION=201\n[preset00]\nzoom=1.2\nrot=0.5\nwarp=3\ncx=0.7\nnWaveMode=7\nfDecay=0.9\n"
        "per_frame_1=zoom = zoom + bass*0.1 + bass_att + sin(time);\nper_frame_2=rot = rot+treb;\n"
        "shapecode_0_enabled=1\nshape_0_per_frame1=x = mid;\nshapecode_1_enabled=0\nshape_1_per_frame1=x = mid;\n"
        "warp_1=`shader_body { ret = bass; }\ncomp_1=`\n"
    )
    f = extract_features(parse_milk(text))
    assert f[I["zoom"]] == pytest.approx(np.tanh(np.log(1.2) / 0.2), abs=1e-6)
    assert f[I["rot"]] == pytest.approx(np.tanh(1.0), abs=1e-6) and f[I["cx"]] == pytest.approx(0.2, abs=1e-6)
    assert f[I["wave_mode"]] == 1 and f[I["decay"]] == pytest.approx(0.5) and f[I["milkdrop2"]] == 1
    assert f[I["uses_bass"]] == pytest.approx(np.log1p(2) / np.log1p(32), abs=1e-6)  # per_frame + warp shader
    assert f[I["uses_mid"]] == pytest.approx(np.log1p(1) / np.log1p(32), abs=1e-6)  # disabled shape 1 not counted
    assert f[I["shapes_enabled"]] == 0.25 and f[I["warp_shader"]] == 1 and f[I["comp_shader"]] == 0
    assert f[I["dynamic_motion"]] == pytest.approx(0.2)


def test_garbage_values_stay_finite():
    f = extract_features(parse_milk("[preset00]\nzoom=nan\nrot=1e999\nwarp=abc\ncx=0.5f\nfDecay=-7\n"))
    assert np.isfinite(f).all() and f[I["zoom"]] == 0 and f[I["cx"]] == 0 and f[I["decay"]] == 0


def test_pair_terms_match_the_raw_differences():
    a, b = synthetic_preset(1, warp=2.0, cx=0.45, rot=0.4), synthetic_preset(2, warp=1.2, cx=0.6, rot=-0.4)
    fa, fb = extract_features(a), extract_features(b)
    t = pair_terms(fa, fb)
    assert set(t) == set(PAIR_TERM_NAMES)
    assert t["warp_diff"] == pytest.approx(0.8, abs=1e-4) and t["cx_diff"] == pytest.approx(0.15, abs=1e-6)
    assert t["rot_interference"] < 0  # counter-rotating layers
    batch = pair_term_matrix(np.stack([fa, fb]), np.stack([fb, fa]))
    assert batch.shape == (2, len(PAIR_TERM_NAMES)) and batch.dtype == np.float32
    assert fa[53:62].any() and pair_terms(fa, fa)["phase"] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError):
        pair_terms(fa[:10], fb)


def test_style_tags_follow_the_generator_rules():
    spiral = synthetic_preset(3, rot=0.5, warp=2.0, zoom=1.0)
    assert "spiral" in style_tags(spiral)
    assert "implosive" in style_tags(synthetic_preset(4, zoom=0.7))
    assert "chaotic" in style_tags(synthetic_preset(5, warp=5.5))
    assert style_tags(parse_milk("[preset00]\nzoom=1\n")) == ["minimal"]


def test_content_hash_ignores_bom_and_crlf_only():
    text = synthetic_preset(0).to_text()
    h = content_hash(text.encode())
    assert len(h) == 20 and h == content_hash(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert h != content_hash(text.replace("fRating=5", "fRating=4").encode())
