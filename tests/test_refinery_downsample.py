"""The stored frames' box downsampling: the integer-sum version writes the bytes of the float mean
it replaced, so the render cache stays valid (benchmarks/bench_render.py checks real renders too)."""

from __future__ import annotations

import numpy as np
import pytest

from aivj.refinery.worker import downsample


def _float_mean(frames: np.ndarray, size: int) -> np.ndarray:
    """The formula of the cached frames (worker.py before 2026-12-02)."""
    t, h, w, c = frames.shape
    fy, fx = h // size, w // size
    boxed = frames[:, : size * fy, : size * fx].reshape(t, size, fy, size, fx, c).astype(np.float32).mean(axis=(2, 4))
    return np.round(boxed).astype(np.uint8)


@pytest.mark.parametrize(
    "shape,size", [((6, 128, 128, 3), 32), ((3, 96, 96, 3), 32), ((2, 130, 127, 3), 32), ((2, 128, 128, 3), 24)]
)
def test_downsample_matches_the_float_mean(shape, size):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, shape, dtype=np.uint8)
    frames[0] = rng.integers(0, 2, shape[1:], dtype=np.uint8) * 255  # many means exactly halfway
    frames[1, ::2] = 8
    frames[1, 1::2] = 9
    expected = _float_mean(frames, size)
    got = downsample(frames, size)
    assert got.dtype == np.uint8 and got.shape == (shape[0], size, size, 3)
    np.testing.assert_array_equal(got, expected)
