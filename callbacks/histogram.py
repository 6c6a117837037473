"""Score histograms with additive smoothing and the KL divergence the drift monitor compares.

Scores live in [0, 5]; ``bins`` equal-width bins; every bin gets ``smoothing`` pseudo-counts so a
bin empty in the reference does not make the divergence infinite.
"""

from __future__ import annotations

import numpy as np

SCORE_RANGE = (0.0, 5.0)


def score_histogram(pred, bins: int = 20) -> list[int]:
    values = np.clip(np.asarray(pred, dtype=np.float64).ravel(), *SCORE_RANGE)
    counts, _ = np.histogram(values, bins=bins, range=SCORE_RANGE)
    return [int(c) for c in counts]


def smoothed(counts, smoothing: float = 0.5) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64) + smoothing
    return c / c.sum()


def kl_divergence(counts_p, counts_q, smoothing: float = 0.5) -> float:
    """KL(P || Q) in nats between two smoothed histograms of the same bins."""
    if len(counts_p) != len(counts_q):
        raise ValueError(f"histograms differ in bins: {len(counts_p)} vs {len(counts_q)}")
    p, q = smoothed(counts_p, smoothing), smoothed(counts_q, smoothing)
    return float(np.sum(p * np.log(p / q)))
