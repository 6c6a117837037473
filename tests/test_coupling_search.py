"""The coupling search: at the default it is the refinery's score, its fast paths agree with the plain
evaluation, and on a pair built to have one best setting it finds that setting."""

from __future__ import annotations

import numpy as np
import pytest

from aivj.contract import coupling as cc
from aivj.refinery.bank import PresetBank
from aivj.refinery.coupling_run import LayerSource, achieved_scores, search_pairs
from aivj.refinery.coupling_search import R, evaluate, space_scores
from aivj.refinery.scoring import score_pairs
from aivj.refinery.settings import RenderSettings

T, S = 64, 32
SAMPLES = RenderSettings().sample_frames()


def pulse(t: np.ndarray) -> np.ndarray:
    """One sharp pulse a beat (16 frames), as a kick drum drives a preset."""
    return np.exp(-((t % 16) / 2.0))


def random_bank(n: int, seed: int = 0) -> tuple[PresetBank, dict]:
    g = np.random.default_rng(seed)
    env = 0.2 + pulse(np.arange(T))
    frames = {}
    for i in range(n):
        base = g.uniform(0, 255, (1, S, S, 3))
        drift = g.normal(0, 40, (T, 1, 1, 3)).cumsum(0) + g.normal(0, 20, (T, S, S, 3))
        frames[f"p{i}"] = np.clip(base + drift, 0, 255).astype(np.uint8)
    return PresetBank.from_frames(frames.items(), env, SAMPLES), frames


@pytest.fixture(scope="module")
def bank_and_frames():
    return random_bank(6)


def test_at_the_default_setting_the_search_scores_like_the_refinery(bank_and_frames):
    bank, frames = bank_and_frames
    fg, bg = ["p0", "p1", "p2", "p3", "p4"], ["p1", "p2", "p3", "p4", "p0"]
    result = search_pairs(LayerSource(frames.get, bank), fg, bg, chunk=2, rounds=1)
    ix = bank.index()
    refinery = score_pairs(bank, [ix[f] for f in fg], [ix[b] for b in bg])["score"]
    np.testing.assert_allclose(result.default_score, refinery, atol=2e-4)
    assert (result.columns["coupling_gain"] >= 0).all()
    np.testing.assert_allclose(result.columns["coupling_score"] - result.columns["coupling_gain"], refinery, atol=2e-4)


def test_the_window_path_and_the_matrix_path_agree_with_the_plain_evaluation(bank_and_frames):
    bank, frames = bank_and_frames
    src = LayerSource(frames.get, bank)
    c = src.chunk(["p0", "p3"], ["p5", "p1"])
    a_f, a_b, k = np.array([0.3, 0.7]), np.array([0.8, 0.5]), np.array([3, -5])
    grid = space_scores(c, a_f, a_b, k)  # [P, scale, dy, dx]
    for si, dy, dx in ((0, 0, 0), (2, -3, 4), (3, 4, -1)):
        one = evaluate(c, a_f[:, None], a_b[:, None], np.full((2, 1), si), np.full((2, 1), dy), np.full((2, 1), dx), k[:, None])
        np.testing.assert_allclose(grid[:, si, dy + R, dx + R], one[:, 0], atol=1e-5)
    # the continuous transform (matrices) at grid points is the grid's roll
    settings = {"fg_opacity": a_f, "bg_opacity": a_b, "dx": np.array([0.125, -0.0625]), "dy": np.array([-0.25, 0.1875])}
    settings |= {"scale": np.array([cc.SCALE_LEVELS[2], cc.SCALE_LEVELS[1]]), "phase": k}
    got = achieved_scores(src, ["p0", "p3"], ["p5", "p1"], settings)
    np.testing.assert_allclose(got[0], grid[0, 2, -4 + R, 2 + R], atol=1e-5)
    np.testing.assert_allclose(got[1], grid[1, 1, 3 + R, -1 + R], atol=1e-5)


def planted_pair(dy_px: int, dx_px: int, delay: int, zoom: float) -> tuple[PresetBank, dict]:
    """BG: mid-grey with a dark hole of 8 * ``zoom`` pixels; FG: black with a bright 8 x 8 square at the
    centre, its beat pulse ``delay`` frames early. Best: the square zoomed and shifted onto the hole,
    the FG delayed back."""
    t = np.arange(T)
    bg, fg = np.full((S, S), 0.55), np.zeros((S, S))
    fg[12:20, 12:20] = 1.0
    lo, hi = int(16 - 4 * zoom), int(16 + 4 * zoom)
    bg[lo + dy_px : hi + dy_px, lo + dx_px : hi + dx_px] = 0.0
    texture = 0.1 * np.random.default_rng(3).random((S, S))  # so that no map is flat
    lum_bg = (bg + texture)[None] * (0.5 + 0.5 * pulse(t))[:, None, None]
    lum_fg = (fg + texture)[None] * (0.5 + 0.5 * pulse(t + delay))[:, None, None]
    frames = {
        k: np.repeat((np.clip(v, 0, 1) * 255).astype(np.uint8)[..., None], 3, -1) for k, v in (("fg", lum_fg), ("bg", lum_bg))
    }
    return PresetBank.from_frames(frames.items(), 0.2 + pulse(t), SAMPLES), frames


def test_a_planted_best_setting_is_found():
    dy_px, dx_px, delay, zoom = -4, 6, 3, 1.5  # frame pixels: 2 and 3 map pixels
    bank, frames = planted_pair(dy_px, dx_px, delay, zoom)
    assert bank.vitality.min() > 0.5  # both layers alive: the gate lets S and T count
    result = search_pairs(LayerSource(frames.get, bank), ["fg"], ["bg"], rounds=2)
    c = {k: v[0] for k, v in result.columns.items()}
    assert c["coupling_dy"] == pytest.approx(dy_px / S)
    assert c["coupling_dx"] == pytest.approx(dx_px / S)
    assert c["coupling_phase"] == delay
    assert c["coupling_scale"] == zoom
    assert c["coupling_gain"] > 0.3
