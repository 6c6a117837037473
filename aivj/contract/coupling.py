"""Spatio-temporal coupling settings of a pair: what they are, their allowed ranges, the search grid.

A setting moves the FG layer against the BG layer: opacities of both layers (their sum within the
app's budget), a circular offset (dx, dy) of the FG in frame widths (parallax), a zoom of the FG
about the centre (scale >= 1: the FG nearer than the BG, "depth"), and a delay of the FG in frames
(phase; 16 frames are one beat at the refinery's settings). The refinery searches the grid below
(aivj/refinery/coupling_search.py), the pairs table stores the best setting (``COUPLING_COLUMNS``),
the coupling head predicts it normalised to [0, 1] (``normalise``), the export writes it in the
app's units (docs/coupling.md). Defined once here: refinery, coupling/, datamodules and export all read it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

COUPLING_VERSION = 1

OPACITY_BUDGET = 1.2  # FG + BG opacity may not exceed this (the app's budget)
OPACITY_RANGE = (0.2, 0.8)  # per layer
OFFSET_RANGE = (-0.25, 0.25)  # dx, dy in frame widths: the app's parallax 0-0.25
SCALE_RANGE = (1.0, 1.5)  # FG zoom; depth = (scale - 1) / 0.5 in the app's strength range 0-1
PHASE_SHIFTS = tuple(range(-8, 8))  # FG delay in frames: half a beat either way (16 frames a beat)
FRAMES_PER_BEAT = 16

# The grid the search walks: opacity in steps of 0.1, offsets in steps of one 16 x 16 map pixel.
OPACITY_LEVELS = tuple(round(0.2 + 0.1 * i, 1) for i in range(7))
OFFSET_STEPS = tuple(range(-4, 5))  # map pixels of 1/16 frame width: -0.25 .. 0.25
OFFSET_UNIT = 1.0 / 16
SCALE_LEVELS = (1.0, 1.125, 1.25, 1.5)

# The fixed default the refinery scored every pair with (scoring.BLEND): 0.5/0.5, no offset, no zoom, in phase.
DEFAULT = {"fg_opacity": 0.5, "bg_opacity": 0.5, "dx": 0.0, "dy": 0.0, "scale": 1.0, "phase": 0}

# The continuous coordinates the head regresses, in this order, with their allowed ranges.
CONTINUOUS = ("fg_opacity", "bg_opacity", "dx", "dy", "scale")
RANGES = {"fg_opacity": OPACITY_RANGE, "bg_opacity": OPACITY_RANGE, "dx": OFFSET_RANGE, "dy": OFFSET_RANGE, "scale": SCALE_RANGE}
N_PHASES = len(PHASE_SHIFTS)

# Columns the pairs table carries once `aivj refine coupling` ran (null where a pair was not searched).
# Optional columns of the pairs table (aivj/contract/schema.py PAIRS_SCHEMA's rows; docs/data-layout.md).
PAIR_COUPLING_FIELDS = (
    pa.field("coupling_fg_opacity", pa.float32()),
    pa.field("coupling_bg_opacity", pa.float32()),
    pa.field("coupling_dx", pa.float32()),  # frame widths, + = right
    pa.field("coupling_dy", pa.float32()),  # frame heights, + = down
    pa.field("coupling_scale", pa.float32()),
    pa.field("coupling_phase", pa.int8()),  # frames the FG is delayed by, in PHASE_SHIFTS
    pa.field("coupling_score", pa.float32()),  # the pair score (0-5) under the best setting
    pa.field("coupling_gain", pa.float32()),  # coupling_score minus the score under DEFAULT (>= 0)
)
COUPLING_COLUMNS = tuple(f.name for f in PAIR_COUPLING_FIELDS)
# The columns that carry the setting itself, in CONTINUOUS order (then the phase).
SETTING_COLUMNS = ("coupling_fg_opacity", "coupling_bg_opacity", "coupling_dx", "coupling_dy", "coupling_scale")


def opacity_pairs() -> list[tuple[float, float]]:
    """Every (FG, BG) opacity of the grid within the budget."""
    return [(f, b) for f in OPACITY_LEVELS for b in OPACITY_LEVELS if f + b <= OPACITY_BUDGET + 1e-9]


def within_budget(fg: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Opacities clipped to their range and scaled down together where their sum is over the budget."""
    fg, bg = np.clip(fg, *OPACITY_RANGE), np.clip(bg, *OPACITY_RANGE)
    over = np.maximum((fg + bg) / OPACITY_BUDGET, 1.0)
    return fg / over, bg / over


def normalise(values: np.ndarray) -> np.ndarray:
    """[..., 5] in CONTINUOUS order, app units -> [0, 1] of each allowed range."""
    lo = np.array([RANGES[k][0] for k in CONTINUOUS], dtype=np.float64)
    hi = np.array([RANGES[k][1] for k in CONTINUOUS], dtype=np.float64)
    return (np.asarray(values, dtype=np.float64) - lo) / (hi - lo)


def denormalise(unit: np.ndarray) -> np.ndarray:
    lo = np.array([RANGES[k][0] for k in CONTINUOUS], dtype=np.float64)
    hi = np.array([RANGES[k][1] for k in CONTINUOUS], dtype=np.float64)
    return lo + np.clip(np.asarray(unit, dtype=np.float64), 0.0, 1.0) * (hi - lo)


def phase_class(shift) -> np.ndarray:
    """Frames of delay -> class index 0..15 (the head's classes)."""
    return np.asarray(shift, dtype=np.int64) - PHASE_SHIFTS[0]


def phase_shift(cls) -> np.ndarray:
    return np.asarray(cls, dtype=np.int64) + PHASE_SHIFTS[0]


def phase_distance(a, b) -> np.ndarray:
    """Circular distance in frames between two delays (a beat is periodic: -8 and 7 are 1 frame apart)."""
    d = np.abs(np.asarray(a, dtype=np.int64) - np.asarray(b, dtype=np.int64)) % N_PHASES
    return np.minimum(d, N_PHASES - d)
