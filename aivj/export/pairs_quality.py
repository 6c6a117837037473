"""Score every pair of a pack and write ``pairs-quality.v0.json`` exactly as the web app reads it.

    {"pack": <manifest's pack>, "pairs": [{"pair": 65, "quality01": 0.77}, ...],
     "qualityStats": {"min", "max", "mean", "std", "p50", "p95", "calibration": "std_stretch.v0"},
     "stats": {"missingFiles": N}}

quality01 = predicted score / 5. Pairs with a missing (or unparsable) preset file are left out and
each such file reference is counted in ``missingFiles``. Calibration ``std_stretch.v0``: when the
std is below 0.03 the values are spread around their mean (clamped to [0, 1]) until it is not.
This module holds the browser's file; the model call is ``aivj.inference``; ``pack_export`` decides the scoring path
(render descriptors from the refinery, or static features with has_render = 0) and writes the
``pairs-quality.v0.meta.json`` sidecar (docs/export.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aivj.inference.packs import load_features, read_pack
from aivj.inference.scorer import score_presets

MIN_STD = 0.03
CALIBRATION = "std_stretch.v0"
DECIMALS = 6


def std_stretch(q: np.ndarray, min_std: float = MIN_STD) -> np.ndarray:
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    std = q.std()
    if len(q) < 2 or std >= min_std or std == 0.0:  # nothing to spread (or nothing that can be spread)
        return q
    mean, target = q.mean(), min_std * 1.02  # a little margin so rounding keeps std >= min_std
    factor = target / std
    for _ in range(60):  # clamping eats spread: widen until the clamped std reaches the target
        out = np.clip(mean + (q - mean) * factor, 0.0, 1.0)
        if out.std() >= target:
            return out
        factor *= 1.25
    return out


def quality_stats(q: np.ndarray) -> dict:
    if len(q) == 0:
        return {"min": 0.0, "max": 0.0, "mean": 0.0, "std": 0.0, "p50": 0.0, "p95": 0.0, "calibration": CALIBRATION}
    r = lambda x: round(float(x), DECIMALS)  # noqa: E731
    return {
        "min": r(q.min()),
        "max": r(q.max()),
        "mean": r(q.mean()),
        "std": r(q.std()),
        "p50": r(np.percentile(q, 50)),
        "p95": r(np.percentile(q, 95)),
        "calibration": CALIBRATION,
    }


def document(pack_name: str, pair_ids, scores, missing: int) -> dict:
    """The browser's file from 0-5 scores (the only place its keys are written)."""
    q = np.round(std_stretch(np.asarray(scores, dtype=np.float64) / 5.0), DECIMALS)
    return {
        "pack": pack_name,
        "pairs": [{"pair": int(p), "quality01": float(v)} for p, v in zip(pair_ids, q)],
        "qualityStats": quality_stats(q),
        "stats": {"missingFiles": int(missing)},
    }


def pairs_quality(pack_dir: Path, model) -> dict:
    """The static path alone (no renders, no gate): kept for callers that score text only."""
    pack = read_pack(pack_dir)
    _, static, usable, missing = load_features(Path(pack_dir), pack.pairs)
    scores = score_presets(model, static, [u[1] for u in usable], [u[2] for u in usable])
    return document(pack.pack, [u[0] for u in usable], scores, missing)
