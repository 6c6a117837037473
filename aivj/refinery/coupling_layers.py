"""One layer's arrays under a spatial transform, from its cached frames: what the coupling search reads.

A transform (zoom about the centre, then a circular shift) is linear in the pixels, so it is one
32 x 32 matrix per axis, applied to luma and colour alike: ``T(frame) = A_y @ frame @ A_x^T``. At
scale 1 and no shift ``A`` is the identity and the arrays are exactly the refinery's own
(``bank.reduce_frames``): mean RGB of every stored frame, 16 x 16 luma maps (here of every frame, so a
phase shift can pick any of them), the motion energy, closed into a circle (entry 63 is the step
from the last frame back to the first) so that delaying the layer by k frames is a roll.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aivj.refinery.bank import MAP_SIZE
from aivj.refinery.worker import luma


def zoom_matrix(size: int, scale: float, shift_px: float = 0.0) -> np.ndarray:
    """[size, size]: bilinear zoom by ``scale`` about the centre (edges clamped), then a circular shift
    by ``shift_px`` pixels (positive = towards higher indices: right, or down)."""
    x = np.arange(size, dtype=np.float64)
    c = size / 2.0
    zoom = np.zeros((size, size))
    u = np.clip(c + (x + 0.5 - c) / scale - 0.5, 0, size - 1)
    lo = np.floor(u).astype(int)
    hi = np.minimum(lo + 1, size - 1)
    w = u - lo
    zoom[np.arange(size), lo] += 1 - w
    zoom[np.arange(size), hi] += w
    shift = np.zeros((size, size))
    src = x - shift_px  # output pixel x shows the zoomed layer at x - shift (circular)
    lo_s = np.floor(src).astype(int)
    w_s = src - lo_s
    shift[np.arange(size), lo_s % size] += 1 - w_s
    shift[np.arange(size), (lo_s + 1) % size] += w_s
    return shift @ zoom


@dataclass
class LayerArrays:
    """A layer under one transform, every stored frame: rgb [T, 3], maps [T, 16, 16] (luma), their
    z-scores [T, 16, 16] (0 for a flat map) and spatial std [T], circular motion energy [T]."""

    rgb: np.ndarray
    maps: np.ndarray
    z: np.ndarray
    sd: np.ndarray
    energy: np.ndarray


def layer_arrays(frames: np.ndarray, a_y: np.ndarray | None = None, a_x: np.ndarray | None = None) -> LayerArrays:
    """``frames`` uint8 [T, S, S, 3]; ``a_y``/``a_x`` [S, S] (None = identity: the refinery's arrays)."""
    lum = luma(frames).astype(np.float32)
    if a_y is None:
        rgb = frames.astype(np.float32).mean(axis=(1, 2)) / 255.0
    else:
        a_y, a_x = a_y.astype(np.float32), a_x.astype(np.float32)
        lum = a_y @ lum @ a_x.T
        # mean of the transformed frame = (column sums of A_y) . frame . (column sums of A_x) / S^2
        wy, wx = a_y.sum(axis=0), a_x.sum(axis=0)
        col = np.moveaxis(frames, -1, 1).astype(np.float32) / 255.0  # [T, 3, S, S]
        rgb = (wy @ col @ wx) / (lum.shape[1] * lum.shape[2])
    t, s = lum.shape[:2]
    b = s // MAP_SIZE
    maps = lum[:, : MAP_SIZE * b, : MAP_SIZE * b].reshape(t, MAP_SIZE, b, MAP_SIZE, b).mean(axis=(2, 4))
    flat = maps.reshape(t, -1)
    sd = flat.std(axis=1)
    z = (flat - flat.mean(axis=1, keepdims=True)) / np.where(sd > 1e-6, sd, np.inf)[:, None]
    energy = np.abs(np.roll(lum, -1, axis=0) - lum).mean(axis=(1, 2))  # [t] = |L[t+1] - L[t]|, circular
    return LayerArrays(rgb.astype(np.float32), maps, z.reshape(t, MAP_SIZE, MAP_SIZE).astype(np.float32), sd, energy)


def scaled_variants(frames: np.ndarray, scales) -> LayerArrays:
    """The layer at each zoom of ``scales`` (no shift), stacked on a leading axis [S, ...]."""
    size = frames.shape[1]
    parts = [
        layer_arrays(frames) if s == 1.0 else layer_arrays(frames, zoom_matrix(size, s), zoom_matrix(size, s)) for s in scales
    ]
    return LayerArrays(*(np.stack([getattr(p, f) for p in parts]) for f in ("rgb", "maps", "z", "sd", "energy")))


def transformed(frames: np.ndarray, scale: float, dx: float, dy: float) -> LayerArrays:
    """The layer at any (continuous) zoom and offset, offsets in frame widths."""
    size = frames.shape[1]
    if scale == 1.0 and dx == 0.0 and dy == 0.0:
        return layer_arrays(frames)
    return layer_arrays(frames, zoom_matrix(size, scale, dy * size), zoom_matrix(size, scale, dx * size))
