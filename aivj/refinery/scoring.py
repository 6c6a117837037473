"""Score FG/BG pairs from the preset bank: the user's v2 measures, spatial S, temporal T, score 0-5.

Composite (``BLEND``): the web app draws BG opaque and FG over it at opacity 0.5 with normal
blending, C = 0.5 FG + 0.5 BG per pixel and channel, which is what the app's composite luma
("mean of FG and BG luma") measures. Everything is vectorised over pairs (numpy, float32 maps);
``reference.py`` recomputes the same numbers from raw frames, one pair at a time, for tests.
Formulas and constants: docs/refinery.md; change any of them -> bump ``SCORE_VERSION``.
"""

from __future__ import annotations

import numpy as np

from aivj.refinery.bank import PresetBank

SCORE_VERSION = 1
BLEND = "mix50: C = 0.5*FG + 0.5*BG (FG at opacity 0.5, normal blend, over opaque BG)"
FG_OPACITY = 0.5

# The user's v2 sample score (aidata-formats.md), luma and motion in [0, 1] units.
LUMA_LO, LUMA_SPAN = 0.06, 0.12
MOTION_LO, MOTION_HI = 1.5e-5, 6e-4
WARMUP_SAMPLES = 2

# Spatial score S = gate * (W_DISSIM * d + W_CONTRAST * c + W_COVER * v).
W_DISSIM, W_CONTRAST, W_COVER = 0.4, 0.3, 0.3
CONTRAST_HALF = 0.08  # composite spatial luma std at which the contrast term is 0.5
COVER_LUMA = 0.10  # a composite pixel is "covered" when its luma is above this
# Temporal score T = gate * (W_BEAT * beat + W_MUTUAL * mutual + W_BALANCE * balance).
W_BEAT, W_MUTUAL, W_BALANCE = 0.4, 0.35, 0.25
# Exposure E = 4 x (1 - x), x = clamp01(avg composite luma / TOO_BRIGHT): 0 at black and at the
# user's too-bright threshold, 1 at mid-range. It carries the luma information v2 loses when its
# luma term saturates (at 1 for about two thirds of random pairs).
TOO_BRIGHT = 0.96
# Pair score: 5 * clamp01((raw - RAW_LO) / (RAW_HI - RAW_LO)), raw = W_V2*v2 + W_E*E + W_S*S + W_T*T.
W_V2, W_E, W_S, W_T = 0.35, 0.15, 0.3, 0.2
RAW_LO, RAW_HI = 0.0, 1.0


def clamp01(x):
    return np.clip(x, 0.0, 1.0)


def v2_sample_score(luma, motion):
    return 0.65 * clamp01((luma - LUMA_LO) / LUMA_SPAN) + 0.35 * clamp01((motion - MOTION_LO) / (MOTION_HI - MOTION_LO))


def exposure(avg_luma):
    x = clamp01(np.asarray(avg_luma, dtype=np.float64) / TOO_BRIGHT)
    return 4.0 * x * (1.0 - x)


def pair_score(v2, s, t, e=1.0):
    raw = W_V2 * np.asarray(v2) + W_E * np.asarray(e) + W_S * np.asarray(s) + W_T * np.asarray(t)
    return 5.0 * clamp01((raw - RAW_LO) / (RAW_HI - RAW_LO))


def _zcorr(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    a = a - a.mean(axis=axis, keepdims=True)
    b = b - b.mean(axis=axis, keepdims=True)
    den = np.sqrt((a * a).sum(axis=axis) * (b * b).sum(axis=axis))
    return np.where(den > 1e-12, (a * b).sum(axis=axis) / np.maximum(den, 1e-12), 0.0)


def _v2_block(bank: PresetBank, f: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    sf = bank.sample_frames
    rf, rb = bank.rgb[f][:, sf].astype(np.float64), bank.rgb[b][:, sf].astype(np.float64)  # [P, 8, 3]
    w = np.array([0.2126, 0.7152, 0.0722])
    lf, lb = rf @ w, rb @ w
    comp = 0.5 * (rf + rb)
    lum = 0.5 * (lf + lb)
    d_l = np.abs(np.diff(lum, axis=1))
    d_c = np.abs(np.diff(comp, axis=1)).sum(axis=2) / 3.0
    motion = np.concatenate([np.full((len(f), 1), np.nan), 0.65 * d_l + 0.35 * d_c], axis=1)  # sample 0 has none
    m = slice(WARMUP_SAMPLES, None)
    samples = v2_sample_score(lum[:, m], motion[:, m])
    return {
        "v2": samples.mean(axis=1),
        "avg_luma": lum[:, m].mean(axis=1),
        "min_luma": lum[:, m].min(axis=1),
        "max_luma": lum[:, m].max(axis=1),
        "avg_motion": motion[:, m].mean(axis=1),
        "min_motion": motion[:, m].min(axis=1),
        "max_motion": motion[:, m].max(axis=1),
        "sample_luma": lum[:, m],
        "sample_motion": motion[:, m],
        "sample_luma_fg": lf[:, m],
        "sample_luma_bg": lb[:, m],
        "sample_score": samples,
    }


def _map_stats(bank: PresetBank) -> tuple[np.ndarray, np.ndarray]:
    """Per-map z-scored maps [N, K, 256] (0 for a flat map) and spatial std [N, K], computed once per bank."""
    cached = getattr(bank, "_map_stats", None)
    if cached is None:
        m = bank.maps.astype(np.float32)
        sd = m.std(axis=2)
        z = (m - m.mean(axis=2, keepdims=True)) / np.where(sd > 1e-6, sd, np.inf)[..., None]
        cached = (z.astype(np.float32), sd.astype(np.float64))
        bank._map_stats = cached
    return cached


def _spatial_block(bank: PresetBank, f: np.ndarray, b: np.ndarray, gate: np.ndarray) -> dict[str, np.ndarray]:
    z, sd = _map_stats(bank)
    n_px = z.shape[2]
    corr = np.einsum("pkn,pkn->pk", z[f], z[b], optimize=True).astype(np.float64) / n_px  # per map, [P, K]
    dissim = ((1.0 - corr) / 2.0).mean(axis=1)
    a = FG_OPACITY
    sf, sb = sd[f], sd[b]
    # Spatial std of the composite a*F + (1-a)*B from the layers' std and correlation (exact).
    c = np.sqrt(np.maximum(a * a * sf**2 + (1 - a) ** 2 * sb**2 + 2 * a * (1 - a) * corr * sf * sb, 0.0)).mean(axis=1)
    contrast = c / (c + CONTRAST_HALF)
    maps = bank.maps
    cover = ((a * maps[f] + (1 - a) * maps[b]) > COVER_LUMA).mean(axis=(1, 2))
    s = gate * (W_DISSIM * dissim + W_CONTRAST * contrast + W_COVER * cover)
    return {"spatial_score": s, "dissimilarity": dissim, "contrast": contrast, "coverage": cover}


def _temporal_block(bank: PresetBank, f: np.ndarray, b: np.ndarray, gate: np.ndarray) -> dict[str, np.ndarray]:
    ef, eb = bank.energy[f].astype(np.float64), bank.energy[b].astype(np.float64)  # [P, T-1]
    env = bank.envelope[1 : ef.shape[1] + 1][None, :]
    beat = np.maximum(0.0, _zcorr(0.5 * (ef + eb), np.broadcast_to(env, ef.shape)))
    mutual = np.maximum(0.0, _zcorr(ef, eb))
    mf, mb = ef.mean(axis=1), eb.mean(axis=1)
    balance = np.where(mf + mb > 0, 2.0 * np.minimum(mf, mb) / np.maximum(mf + mb, 1e-12), 0.0)
    t = gate * (W_BEAT * beat + W_MUTUAL * mutual + W_BALANCE * balance)
    return {"temporal_score": t, "beat_sync": beat, "mutual_sync": mutual, "balance": balance}


def score_pairs(bank: PresetBank, fg: np.ndarray, bg: np.ndarray, chunk: int = 4096) -> dict[str, np.ndarray]:
    """All pair measures for index arrays ``fg``/``bg`` into ``bank``; float arrays of len(fg)."""
    fg, bg = np.asarray(fg, dtype=np.int64), np.asarray(bg, dtype=np.int64)
    parts: list[dict] = []
    for lo in range(0, len(fg), chunk):
        f, b = fg[lo : lo + chunk], bg[lo : lo + chunk]
        gate = np.minimum(bank.vitality[f], bank.vitality[b]).astype(np.float64)
        out = {"gate": gate, **_v2_block(bank, f, b), **_spatial_block(bank, f, b, gate), **_temporal_block(bank, f, b, gate)}
        out["exposure"] = exposure(out["avg_luma"])
        out["score"] = pair_score(out["v2"], out["spatial_score"], out["temporal_score"], out["exposure"])
        parts.append(out)
    if not parts:
        return {}
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
