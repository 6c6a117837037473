"""Search each pair's best coupling setting on the cached frames with the refinery's own score.

The pair score (scoring.py) generalised to a setting (aivj/contract/coupling.py): the composite is
``a_fg * FG' + a_bg * BG`` with FG' the FG zoomed, shifted and delayed, so every term comes from the
layers' own arrays (coupling_layers.py), no re-render. At the default setting (0.5 / 0.5, no
offset, no zoom, in phase) every term is the refinery's, so the score is the pair's stored score
(tested). Where an opacity enters a term it weighs that layer: v2 and exposure read the composite
colour, the contrast the std of the weighted sum, the coverage its luma, the beat term the
opacity-weighted motion, the balance the opacity-weighted mean motions. The vitality gate is the
untransformed layers' (a property of the preset, not of the setting).

The grid (opacity split x scale x dx x dy x phase, ~400,000 settings) is searched by block
coordinate ascent from the default: phase (16), then space (4 scales x 81 offsets, all at once
through sliding windows over the wrapped maps), then opacity (39 splits), ``rounds`` times; a block
moves only when it strictly improves, so the result never scores below the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from aivj.contract import coupling as cc
from aivj.refinery.bank import MAP_STRIDE
from aivj.refinery.coupling_layers import LayerArrays
from aivj.refinery.scoring import (
    CONTRAST_HALF,
    COVER_LUMA,
    W_BALANCE,
    W_BEAT,
    W_CONTRAST,
    W_COVER,
    W_DISSIM,
    W_MUTUAL,
    WARMUP_SAMPLES,
    _zcorr,
    exposure,
    pair_score,
    v2_sample_score,
)

LUMA_W = np.array([0.2126, 0.7152, 0.0722], dtype=np.float64)
R = max(cc.OFFSET_STEPS)  # offsets reach +-R map pixels


@dataclass
class Chunk:
    """P pairs: FG arrays at each grid scale [P, S, T, ...], BG arrays [P, T, ...] (scale 1), the gate [P],
    the audio envelope at the stored frames [T] and the browser's sample frames [8]."""

    fg: LayerArrays
    bg: LayerArrays
    gate: np.ndarray
    envelope: np.ndarray
    sample_frames: np.ndarray

    @property
    def n(self) -> int:
        return len(self.gate)

    @property
    def frames(self) -> int:
        return self.bg.rgb.shape[1]


def _map_frames(frames: int, k):
    """Stored-frame index of each of the 16 maps of a layer delayed by k frames: [..., 16]."""
    return (np.arange(0, frames, MAP_STRIDE) - np.asarray(k)[..., None]) % frames


def _terms(c: Chunk, a_f, a_b, rgb_f, e_f, corr, sd_f, cover) -> np.ndarray:
    """Pair scores; ``rgb_f`` [..., 8, 3] FG colour at the sample frames, ``e_f`` [..., T-1] FG energy,
    ``corr``/``sd_f`` [..., 16] per map, ``cover`` [...]; leading axes [P, ...] broadcast with a_f, a_b."""
    extra = (1,) * (np.ndim(a_f) - 1)
    sf = c.sample_frames
    rgb_b = c.bg.rgb[:, sf].astype(np.float64).reshape(c.n, *extra, len(sf), 3)
    af, ab = np.asarray(a_f, np.float64), np.asarray(a_b, np.float64)
    lum = af[..., None] * (rgb_f @ LUMA_W) + ab[..., None] * (rgb_b @ LUMA_W)
    comp = af[..., None, None] * rgb_f + ab[..., None, None] * rgb_b
    motion = 0.65 * np.abs(np.diff(lum, axis=-1)) + 0.35 * np.abs(np.diff(comp, axis=-2)).sum(-1) / 3.0
    m = slice(WARMUP_SAMPLES, None)
    v2 = v2_sample_score(lum[..., m], motion[..., WARMUP_SAMPLES - 1 :]).mean(-1)
    e = exposure(lum[..., m].mean(-1))
    gate = c.gate.reshape(c.n, *extra)
    sd_b = c.bg.sd[:, _map_frames(c.frames, 0)].astype(np.float64).reshape(c.n, *extra, -1)
    corr = np.asarray(corr, np.float64)
    dissim = ((1.0 - corr) / 2.0).mean(-1)
    var = (af**2)[..., None] * sd_f**2 + (ab**2)[..., None] * sd_b**2 + 2 * (af * ab)[..., None] * corr * sd_f * sd_b
    con = np.sqrt(np.maximum(var, 0.0)).mean(-1)
    s = gate * (W_DISSIM * dissim + W_CONTRAST * con / (con + CONTRAST_HALF) + W_COVER * cover)
    t1 = c.frames - 1
    e_b = c.bg.energy[:, :t1].astype(np.float64).reshape(c.n, *extra, t1)
    env = np.broadcast_to(c.envelope[1 : t1 + 1], np.broadcast_shapes(e_f.shape, e_b.shape))
    e_f = np.asarray(e_f, np.float64)
    beat = np.maximum(0.0, _zcorr(af[..., None] * e_f + ab[..., None] * e_b, env))
    mutual = np.maximum(0.0, _zcorr(np.broadcast_to(e_f, env.shape), np.broadcast_to(e_b, env.shape)))
    mf, mb = af * e_f.mean(-1), ab * e_b.mean(-1)
    balance = np.where(mf + mb > 0, 2.0 * np.minimum(mf, mb) / np.maximum(mf + mb, 1e-12), 0.0)
    t = gate * (W_BEAT * beat + W_MUTUAL * mutual + W_BALANCE * balance)
    return pair_score(v2, s, t, e)


def _fg_time(c: Chunk, si, k):
    """FG colour at the sample frames [..., 8, 3], energy [..., T-1], per-map std [..., 16] at scale
    index ``si`` delayed by ``k`` frames (si, k: [P, ...] integer arrays)."""
    p = np.arange(c.n).reshape(c.n, *(1,) * (np.ndim(si) - 1))
    t = c.frames
    rgb = c.fg.rgb[p[..., None], si[..., None], (c.sample_frames - k[..., None]) % t]
    energy = c.fg.energy[p[..., None], si[..., None], (np.arange(t - 1) - k[..., None]) % t]
    sd = c.fg.sd[p[..., None], si[..., None], _map_frames(t, k)]
    return rgb.astype(np.float64), energy, sd.astype(np.float64)


def _maps(c: Chunk, si, dy, dx, k):
    """FG maps and z-maps [P, G, 16, 16, 16] of G spatio-temporal settings per pair ([P, G] each)."""
    p = np.arange(c.n)[:, None, None, None, None]
    fr = _map_frames(c.frames, k)[..., None, None]  # [P, G, 16, 1, 1]
    ax = np.arange(16)
    rows = ((ax - dy[..., None]) % 16)[:, :, None, :, None]
    cols = ((ax - dx[..., None]) % 16)[:, :, None, None, :]
    s = si[..., None, None, None]
    return c.fg.maps[p, s, fr, rows, cols], c.fg.z[p, s, fr, rows, cols]


def _cover(m_f, m_b, a_f, a_b) -> np.ndarray:
    """Share of covered composite pixels; m_f [..., 16, 16, 16], a_f/a_b broadcast over the leading axes."""
    a_f, a_b = np.asarray(a_f, np.float32)[..., None, None, None], np.asarray(a_b, np.float32)[..., None, None, None]
    return ((a_f * m_f + a_b * m_b) > COVER_LUMA).mean(axis=(-1, -2, -3))


def evaluate(c: Chunk, a_f, a_b, si, dy, dx, k) -> np.ndarray:
    """Scores [P, G] of G settings per pair, each argument [P, G] (si: scale index, dy/dx: map pixels, k: frames)."""
    si, dy, dx, k = (np.asarray(v, np.int64) for v in (si, dy, dx, k))
    m_f, z_f = _maps(c, si, dy, dx, k)
    bfr = _map_frames(c.frames, 0)
    z_b, m_b = c.bg.z[:, bfr][:, None], c.bg.maps[:, bfr][:, None]
    corr = (z_f * z_b).sum(axis=(-1, -2)) / 256.0
    rgb, energy, sd = _fg_time(c, si, k)
    return _terms(c, a_f, a_b, rgb, energy, corr, sd, _cover(m_f, m_b, a_f, a_b))


def opacity_scores(c: Chunk, a_f, a_b, si, dy, dx, k) -> np.ndarray:
    """Scores [P, G] of G opacity splits (a_f, a_b [P, G]) at one spatio-temporal setting per pair ([P])."""
    one = [np.asarray(v, np.int64)[:, None] for v in (si, dy, dx, k)]
    m_f, z_f = _maps(c, *one)
    bfr = _map_frames(c.frames, 0)
    z_b, m_b = c.bg.z[:, bfr][:, None], c.bg.maps[:, bfr][:, None]
    corr = (z_f * z_b).sum(axis=(-1, -2)) / 256.0
    rgb, energy, sd = _fg_time(c, *(one[0], one[3]))
    return _terms(c, a_f, a_b, rgb, energy, corr, sd, _cover(m_f, m_b, a_f, a_b))


def _windows(x: torch.Tensor) -> torch.Tensor:
    """[P, 16, 16, 16] maps -> [P, 16, 2R+1, 2R+1, 16, 16]: index (i, j) is the map shifted by (R - i, R - j)."""
    padded = torch.nn.functional.pad(x, (R, R, R, R), mode="circular")
    return padded.unfold(2, 16, 1).unfold(3, 16, 1)  # a view: window w shows the map shifted by R - w


def space_scores(c: Chunk, a_f, a_b, k) -> np.ndarray:
    """Scores [P, S, 2R+1, 2R+1] (dy, dx from -R) of every scale and offset at each pair's a_f, a_b, k [P]."""
    n, w = c.n, 2 * R + 1
    out = np.empty((n, len(cc.SCALE_LEVELS), w, w))
    p = np.arange(n)[:, None]
    bfr = _map_frames(c.frames, 0)
    z_b, m_b = c.bg.z[:, bfr], c.bg.maps[:, bfr]  # [P, 16, 16, 16]
    k = np.asarray(k, np.int64)
    fr = _map_frames(c.frames, k)  # [P, 16]
    # torch for the big step: unfold gives the windows as a view, no copy of the 81 shifted maps
    zb = torch.from_numpy(np.ascontiguousarray(z_b))
    a_f, a_b = np.asarray(a_f, np.float32), np.asarray(a_b, np.float32)
    # covered: a_f F + a_b B > COVER_LUMA  <=>  F > (COVER_LUMA - a_b B) / a_f  (a_f > 0): one pass over the windows
    thr = torch.from_numpy(((COVER_LUMA - a_b[:, None, None, None] * m_b) / a_f[:, None, None, None]).astype(np.float32))
    for si in range(len(cc.SCALE_LEVELS)):
        zw = _windows(torch.from_numpy(np.ascontiguousarray(c.fg.z[p, si, fr])))  # [P, 16, dy, dx, 16, 16]
        mw = _windows(torch.from_numpy(np.ascontiguousarray(c.fg.maps[p, si, fr])))
        corr = torch.einsum("pjabyx,pjyx->pabj", zw, zb) / 256.0
        cover = (mw > thr[:, :, None, None]).float().mean(dim=(1, 4, 5))
        # flip the windows' order so that index i is the shift i - R
        corr, cover = corr.flip(1, 2).double().numpy(), cover.flip(1, 2).double().numpy()
        rgb, energy, sd = _fg_time(c, np.full(n, si), k)
        ex = (slice(None), None, None)
        a_f3, a_b3 = np.asarray(a_f, np.float64)[ex], np.asarray(a_b, np.float64)[ex]
        out[:, si] = _terms(c, a_f3, a_b3, rgb[ex], energy[ex], corr, np.broadcast_to(sd[ex], corr.shape), cover)
    return out


@dataclass
class Best:
    a_f: np.ndarray
    a_b: np.ndarray
    si: np.ndarray
    dy: np.ndarray
    dx: np.ndarray
    k: np.ndarray
    score: np.ndarray
    default_score: np.ndarray

    def columns(self) -> dict[str, np.ndarray]:
        """The pairs table's coupling columns (aivj/contract/coupling.py COUPLING_COLUMNS)."""
        return {
            "coupling_fg_opacity": self.a_f.astype(np.float32),
            "coupling_bg_opacity": self.a_b.astype(np.float32),
            "coupling_dx": (self.dx * cc.OFFSET_UNIT).astype(np.float32),
            "coupling_dy": (self.dy * cc.OFFSET_UNIT).astype(np.float32),
            "coupling_scale": np.asarray(cc.SCALE_LEVELS, np.float32)[self.si],
            "coupling_phase": self.k.astype(np.int8),
            "coupling_score": self.score.astype(np.float32),
            "coupling_gain": (self.score - self.default_score).astype(np.float32),
        }


def search(c: Chunk, rounds: int = 2) -> Best:
    """Block coordinate ascent over the grid from the default setting."""
    n = c.n
    d = cc.DEFAULT
    b = Best(
        np.full(n, d["fg_opacity"]),
        np.full(n, d["bg_opacity"]),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n),
        np.zeros(n),
    )
    col = (slice(None), None)
    b.score = evaluate(c, b.a_f[col], b.a_b[col], b.si[col], b.dy[col], b.dx[col], b.k[col])[:, 0]
    b.default_score = b.score.copy()
    ks = np.asarray(cc.PHASE_SHIFTS)
    ops = np.asarray(cc.opacity_pairs())
    rows = np.arange(n)
    for _ in range(rounds):
        g = len(ks)
        rep = [np.repeat(v[col], g, axis=1) for v in (b.a_f, b.a_b, b.si, b.dy, b.dx)]
        sc = evaluate(c, *rep, np.broadcast_to(ks, (n, g)))
        j = sc.argmax(1)
        better = sc[rows, j] > b.score
        b.k, b.score = np.where(better, ks[j], b.k), np.where(better, sc[rows, j], b.score)

        sp = space_scores(c, b.a_f, b.a_b, b.k).reshape(n, -1)
        j = sp.argmax(1)
        better = sp[rows, j] > b.score
        si, dy, dx = np.unravel_index(j, (len(cc.SCALE_LEVELS), 2 * R + 1, 2 * R + 1))
        b.si, b.dy, b.dx = np.where(better, si, b.si), np.where(better, dy - R, b.dy), np.where(better, dx - R, b.dx)
        b.score = np.where(better, sp[rows, j], b.score)

        g = len(ops)
        sc = opacity_scores(c, np.broadcast_to(ops[:, 0], (n, g)), np.broadcast_to(ops[:, 1], (n, g)), b.si, b.dy, b.dx, b.k)
        j = sc.argmax(1)
        better = sc[rows, j] > b.score
        b.a_f, b.a_b = np.where(better, ops[j, 0], b.a_f), np.where(better, ops[j, 1], b.a_b)
        b.score = np.where(better, sc[rows, j], b.score)
    return b
