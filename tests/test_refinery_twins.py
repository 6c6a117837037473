"""Twin groups, held-out roles by group, and the committed dataset's held-out splits free of twins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from aivj.contract.layout import pairs_dataset, read_presets
from aivj.milk.parser import parse_milk
from aivj.refinery.splits import (
    GOLDEN,
    SEEN,
    UNSEEN,
    assign_roles,
    balanced_pairs,
    twin_leaks,
)
from aivj.refinery.twins import canonical_text, twin_groups

ROOT = Path(__file__).resolve().parents[1]

PRESET = """[preset00]
fRating=3.000000
fDecay=0.980000
zoom=1.010000
per_frame_1=wave_r = 0.5 + 0.5*sin(time);
per_frame_2=zoom = zoom + 0.01*bass; // pulse
warp_1=`shader_body {
warp_2=`ret = tex2D(sampler_main, uv).xyz;
"""


def canon(text: str) -> str:
    return canonical_text(parse_milk(text, "t.milk").entries())


def test_canonical_text_ignores_what_milkdrop_ignores():
    resaved = "MILKDROP_PRESET_VERSION=201\n" + PRESET.replace("fRating=3.000000", "fRating=5").replace(
        "fDecay=0.980000", "fdecay=0.98"
    ).replace("per_frame_1=", "per_frame_7=").replace("per_frame_2=", "per_frame_9=").replace("// pulse", "").replace(
        "wave_r = 0.5", "wave_r=0.5"
    )
    assert canon(resaved) == canon(PRESET)


@pytest.mark.parametrize(
    "change",
    [
        ("zoom=1.010000", "zoom=1.02"),
        ("0.01*bass", "0.02*bass"),
        ("uv).xyz", "uv).zyx"),
        ("per_frame_1=wave_r", "per_frame_3=wave_r"),
    ],
)
def test_canonical_text_sees_what_milkdrop_runs(change):
    assert canon(PRESET.replace(*change)) != canon(PRESET)


def test_twin_links_are_transitive_and_counted():
    feats = np.array([[0, 1], [0, 1], [2, 3], [4, 5], [6, 7]], np.float32)
    texts = [None, "a", "a", None, None]
    renders = np.array([[0.1], [0.2], [0.3], [0.5], [0.5004]])
    group, stats = twin_groups(feats, texts, renders, has_render=np.array([1, 1, 1, 1, 1]))
    assert group[0] == group[1] == group[2]  # static 0~1, text 1~2
    assert group[3] == group[4]  # renders equal within the tolerance
    assert group[0] != group[3]
    assert stats["twin_groups"] == 2 and stats["presets_in_twin_groups"] == 5
    group, _ = twin_groups(feats, texts, renders, has_render=np.array([1, 1, 1, 1, 0]))
    assert group[3] != group[4]  # an unrendered preset never links by render


def test_roles_take_whole_groups_per_collection():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(300), rng.integers(1, 4, 300))
    coll = np.where(groups < 100, "a", "b").astype(object)
    roles = assign_roles(groups, coll, rng, unseen=0.1, golden=0.05)
    for g in np.unique(groups):
        assert len(set(roles[groups == g])) == 1
    for c in ("a", "b"):
        share = (roles[coll == c] == UNSEEN).mean()
        assert 0.07 < share < 0.13, (c, share)
        assert (roles[coll == c] == GOLDEN).any()
    forced = groups == groups[0]
    roles = assign_roles(groups, coll, np.random.default_rng(1), 0.5, 0.2, forced_seen=forced)
    assert (roles[forced] == SEEN).all()


def test_balanced_pairs_share_every_collection_cell():
    coll = np.array(["a"] * 50 + ["b"] * 500, dtype=object)
    fg, bg = balanced_pairs(np.arange(550), coll, 4000, np.random.default_rng(0))
    cells = {(coll[f], coll[b]) for f, b in zip(fg, bg)}
    assert cells == {("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")}
    assert ((coll[fg] == "a") & (coll[bg] == "a")).sum() == 1000
    assert (fg != bg).all() and len(set(zip(fg, bg))) == len(fg)


def test_twin_leaks_finds_a_held_out_twin():
    split = np.array(["train", "test_unseen", "golden", "test_unseen"], dtype=object)
    assert twin_leaks(split, ["g1", "g2", "g4", "g2"], ["g1", "g3", "g5", "g3"]) == {
        "test_unseen": 0,
        "golden": 0,
        "golden_and_unseen_shared_groups": 0,
    }
    leaks = twin_leaks(split, ["g1", "g2", "g4", "g1"], ["g1", "g3", "g2", "g3"])
    assert leaks["test_unseen"] == 1 and leaks["golden_and_unseen_shared_groups"] == 1


def test_committed_dataset_holds_out_whole_twin_groups():
    """No test_unseen or golden preset has a twin (by any link, or by identical static features
    recomputed here) among the presets of train, val or test_seen pairs."""
    data = ROOT / "data" / "default"
    presets = read_presets(data)
    assert "twin_group" in presets.column_names and presets["twin_group"].null_count == 0
    pairs = pairs_dataset(data).to_table(columns=["fg_id", "bg_id", "split"])
    group = dict(zip(presets["preset_id"].to_pylist(), presets["twin_group"].to_pylist()))
    static = dict(
        zip(presets["preset_id"].to_pylist(), (np.asarray(f, np.float32).tobytes() for f in presets["features"].to_pylist()))
    )
    split = pairs["split"].to_numpy(zero_copy_only=False)
    fg, bg = pairs["fg_id"].to_pylist(), pairs["bg_id"].to_pylist()
    for key in (group, static):
        leaks = twin_leaks(split, [key[i] for i in fg], [key[i] for i in bg])
        assert leaks == {"test_unseen": 0, "golden": 0, "golden_and_unseen_shared_groups": 0}, leaks
    for name in ("test_unseen", "golden"):
        assert pc.sum(pc.equal(pairs["split"], name)).as_py() > 500


@pytest.mark.slow
def test_build_two_collections_twin_free(tmp_path):
    """A real build (projectM renders) of two small collections sharing a re-saved twin."""
    from aivj.refinery.dataset import build

    debian = Path("/usr/share/projectM/presets")
    a, b = tmp_path / "coll_a" / "Theme" / "Sub", tmp_path / "coll_b"
    a.mkdir(parents=True)
    b.mkdir()
    for p in sorted((debian / "presets_milkdrop").glob("*.milk"))[:28]:
        (a / p.name).write_bytes(p.read_bytes())
    for p in sorted((debian / "presets_yin").glob("*.milk"))[:28]:
        (b / p.name).write_bytes(p.read_bytes())
    twin_src = sorted(a.glob("*.milk"))[0]
    (b / "resaved twin.milk").write_bytes(b"// saved again\n" + twin_src.read_bytes().replace(b"fRating=", b"fRating=1"))
    out = tmp_path / "data"
    info = build(
        out,
        n_pairs=600,
        n_unseen_pairs=200,
        n_alchemy=4,
        n_golden=20,
        unseen_fraction=0.2,
        golden_fraction=0.2,
        workers=2,
        collections=[("a", tmp_path / "coll_a"), ("b", b)],
        cache_root=tmp_path / "cache",
    )
    assert set(info["collections"]) == {"a", "b"} and info["collections"]["b"]["files"] == 29
    presets = read_presets(out)
    by_name = dict(zip(presets["name"].to_pylist(), presets["twin_group"].to_pylist()))
    if "resaved twin" in by_name and twin_src.stem in by_name:
        assert by_name["resaved twin"] == by_name[twin_src.stem]
    cats = set(zip(presets["source"].to_pylist(), presets["category"].to_pylist()))
    assert ("a", "Theme/Sub") in cats and ("b", None) in cats
    pairs = pairs_dataset(out).to_table(columns=["fg_id", "bg_id", "split"])
    group = dict(zip(presets["preset_id"].to_pylist(), presets["twin_group"].to_pylist()))
    leaks = twin_leaks(
        pairs["split"].to_numpy(zero_copy_only=False),
        [group[i] for i in pairs["fg_id"].to_pylist()],
        [group[i] for i in pairs["bg_id"].to_pylist()],
    )
    assert not any(leaks.values()), leaks
    assert info["splits"].get("test_unseen", 0) > 0 and info["splits"]["train"] > 300
    assert (out / "DATASET.md").read_text().count("| a |") >= 1
