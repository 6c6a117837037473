"""A slow, direct reference of pair scoring: one pair, from raw frames, composite built pixel by pixel.

It shares no code with ``scoring``'s vectorised path except the constants and the descriptor
vitality, so tests can check that the fast path computes the documented formulas.
"""

from __future__ import annotations

import math

import numpy as np

from aivj.refinery import scoring as sc
from aivj.refinery.descriptors import describe


def _luma(rgb) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def _corr(a: list[float], b: list[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va, vb = sum((x - ma) ** 2 for x in a), sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb) if va * vb > 1e-12 else 0.0


def _map16(frame: np.ndarray) -> list[float]:
    """16x16 luma map of one [S, S, 3] float frame in [0, 1] (box average)."""
    s = frame.shape[0]
    b = s // 16
    return [
        _luma(frame[y * b : (y + 1) * b, x * b : (x + 1) * b].reshape(-1, 3).mean(axis=0)) for y in range(16) for x in range(16)
    ]


def _energy(frames: np.ndarray) -> list[float]:
    lum = frames @ np.array([0.2126, 0.7152, 0.0722])
    return [float(np.abs(lum[t] - lum[t - 1]).mean()) for t in range(1, len(frames))]


def reference_pair(fg: np.ndarray, bg: np.ndarray, envelope: np.ndarray, sample_frames) -> dict[str, float]:
    """fg, bg: uint8 [T, S, S, 3] stored frames of the two layers."""
    vit = min(describe(fg, envelope)["vitality"], describe(bg, envelope)["vitality"])
    f, b = fg.astype(np.float64) / 255.0, bg.astype(np.float64) / 255.0
    comp = sc.FG_OPACITY * f + (1 - sc.FG_OPACITY) * b
    # v2: 8x8 downsample average colour of the composite, every sample frame.
    lum, col = [], []
    for k in sample_frames:
        s = comp.shape[1] // 8
        grid = comp[k].reshape(8, s, 8, s, 3).mean(axis=(1, 3))
        avg = grid.reshape(-1, 3).mean(axis=0)
        col.append(avg)
        lum.append(_luma(avg))
    scores, motions = [], []
    for k in range(sc.WARMUP_SAMPLES, len(sample_frames)):
        motion = 0.65 * abs(lum[k] - lum[k - 1]) + 0.35 * float(np.abs(col[k] - col[k - 1]).sum()) / 3.0
        motions.append(motion)
        lt = min(1.0, max(0.0, (lum[k] - sc.LUMA_LO) / sc.LUMA_SPAN))
        mt = min(1.0, max(0.0, (motion - sc.MOTION_LO) / (sc.MOTION_HI - sc.MOTION_LO)))
        scores.append(0.65 * lt + 0.35 * mt)
    v2 = sum(scores) / len(scores)
    # S from 16x16 maps of every 4th frame.
    dis, con, cov = [], [], []
    for t in range(0, len(comp), 4):
        mf, mb, mc = _map16(f[t]), _map16(b[t]), _map16(comp[t])
        dis.append((1.0 - _corr(mf, mb)) / 2.0)
        sd = float(np.std(mc))
        con.append(sd)
        cov.append(sum(1 for x in mc if x > sc.COVER_LUMA) / len(mc))
    c = sum(con) / len(con)
    s_score = vit * (
        sc.W_DISSIM * sum(dis) / len(dis) + sc.W_CONTRAST * c / (c + sc.CONTRAST_HALF) + sc.W_COVER * sum(cov) / len(cov)
    )
    # T from per-frame motion energy.
    ef, eb = _energy(f), _energy(b)
    env = [float(x) for x in envelope[1 : len(ef) + 1]]
    beat = max(0.0, _corr([(x + y) / 2 for x, y in zip(ef, eb)], env))
    mutual = max(0.0, _corr(ef, eb))
    mf, mb = sum(ef) / len(ef), sum(eb) / len(eb)
    balance = 2 * min(mf, mb) / (mf + mb) if mf + mb > 0 else 0.0
    t_score = vit * (sc.W_BEAT * beat + sc.W_MUTUAL * mutual + sc.W_BALANCE * balance)
    x = min(1.0, max(0.0, (sum(lum[2:]) / len(lum[2:])) / sc.TOO_BRIGHT))
    raw = sc.W_V2 * v2 + sc.W_E * 4 * x * (1 - x) + sc.W_S * s_score + sc.W_T * t_score
    score = 5.0 * min(1.0, max(0.0, (raw - sc.RAW_LO) / (sc.RAW_HI - sc.RAW_LO)))
    return {
        "v2": v2,
        "avg_luma": sum(lum[2:]) / len(lum[2:]),
        "avg_motion": sum(motions) / len(motions),
        "spatial_score": s_score,
        "temporal_score": t_score,
        "score": score,
    }
