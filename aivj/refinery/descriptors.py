"""Render descriptors of one preset from its own stored frames (the presets table's render_* columns).

``render_summary`` (16 floats, ``SUMMARY_NAMES``), ``render_layout`` (8x8 time-averaged luma map,
row-major, top row first) and ``render_motion`` (mean motion energy at each of the 16 frames of a
beat cycle). Also the layer *vitality* in [0, 1]: 0 for a black, empty (flat) or frozen layer, the
gate that keeps such a layer from earning coupling credit in ``scoring``. docs/refinery.md.
"""

from __future__ import annotations

import numpy as np

from aivj.contract.schema import (
    RENDER_LAYOUT_DIM,
    RENDER_MOTION_DIM,
    RENDER_SUMMARY_DIM,
)
from aivj.refinery.worker import luma

DESCRIPTOR_VERSION = 1
SUMMARY_NAMES = (
    "mean_luma",
    "spatial_std_luma",
    "temporal_std_luma",
    "motion",
    "motion_p90",
    "mean_r",
    "mean_g",
    "mean_b",
    "colourfulness",
    "saturation",
    "edge_density",
    "black_fraction",
    "bright_fraction",
    "flat_fraction",
    "beat_sync",
    "vitality",
)
assert len(SUMMARY_NAMES) == RENDER_SUMMARY_DIM

# Vitality ramps (lo -> 0, hi -> 1): brightness, spatial structure, motion per frame (mean |dL|).
VITALITY_LUMA = (0.01, 0.05)
VITALITY_STRUCTURE = (0.01, 0.04)
VITALITY_MOTION = (0.0005, 0.004)
EDGE_THRESHOLD = 0.08
FLAT_STD = 0.02


def ramp(x, lo: float, hi: float):
    return np.clip((np.asarray(x, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)


def motion_energy(lum: np.ndarray) -> np.ndarray:
    """Mean |dL| between consecutive frames, [T-1] (entry t-1 is the motion into frame t)."""
    return np.abs(np.diff(lum, axis=0)).mean(axis=(1, 2))


def vitality(mean_luma: float, spatial_std: float, motion: float) -> float:
    return float(min(ramp(mean_luma, *VITALITY_LUMA), ramp(spatial_std, *VITALITY_STRUCTURE), ramp(motion, *VITALITY_MOTION)))


def safe_corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


def describe(frames: np.ndarray, envelope: np.ndarray, steps_per_beat: int = 16) -> dict[str, np.ndarray | float]:
    """Descriptors of uint8 frames [T, S, S, 3]; ``envelope`` = audio RMS at each stored frame [T]."""
    rgb = frames.astype(np.float64) / 255.0
    lum = luma(frames).astype(np.float64)
    t, s = lum.shape[0], lum.shape[1]
    energy = motion_energy(lum)
    spatial_std = float(lum.std(axis=(1, 2)).mean())
    mean_luma = float(lum.mean())
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    colourful = float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    sat = float(np.where(mx > 1e-6, (mx - mn) / np.maximum(mx, 1e-6), 0.0).mean())
    gx = np.abs(np.diff(lum, axis=2))[:, :-1, :]
    gy = np.abs(np.diff(lum, axis=1))[:, :, :-1]
    edges = float((np.maximum(gx, gy) > EDGE_THRESHOLD).mean())
    motion = float(energy.mean())
    summary = np.array(
        [
            mean_luma,
            spatial_std,
            float(lum.mean(axis=(1, 2)).std()),
            motion,
            float(np.percentile(energy, 90)),
            *rgb.mean(axis=(0, 1, 2)),
            colourful,
            sat,
            edges,
            float((lum < 0.05).mean()),
            float((lum > 0.95).mean()),
            float((lum.std(axis=(1, 2)) < FLAT_STD).mean()),
            max(0.0, safe_corr(energy, envelope[1:t])),
            vitality(mean_luma, spatial_std, motion),
        ],
        dtype=np.float32,
    )
    b = s // 8
    layout = lum.mean(axis=0)[: 8 * b, : 8 * b].reshape(8, b, 8, b).mean(axis=(1, 3)).reshape(-1).astype(np.float32)
    phase = np.arange(1, t) % steps_per_beat
    motion16 = np.array(
        [energy[phase == k].mean() if np.any(phase == k) else 0.0 for k in range(steps_per_beat)], dtype=np.float32
    )
    if steps_per_beat != RENDER_MOTION_DIM:  # resample a different grid onto 16 steps
        motion16 = np.interp(np.linspace(0, steps_per_beat - 1, RENDER_MOTION_DIM), np.arange(steps_per_beat), motion16).astype(
            np.float32
        )
    assert layout.shape == (RENDER_LAYOUT_DIM,)
    return {"summary": summary, "layout": layout, "motion": motion16, "vitality": float(summary[-1])}
