"""``data=synthetic``: a generated dataset with a planted answer, for tests and day-one runs.

Generative model (documented in docs/data-layout.md, recovered by tests/test_synthetic.py):

* each preset is a 64-dim feature vector ``f ~ U(-1, 1)`` and a render descriptor
  ``r = tanh(W_r f)`` (96 dims, fixed random ``W_r``), so "render" inputs carry the same signal;
* spatial term   ``s = sum_k a_k |fg_k - bg_k|``        over the spatial dims ``0..3``
  (layers that differ in layout complement each other) plus ``0.5 * fg_0`` (order matters);
* temporal term  ``t = sum_k b_k fg_k bg_k``            over the temporal dims ``4..7``
  (phase agreement of motion);
* with ``score_from="render"`` both terms read render summary dims ``0..7`` in place of the static
  dims: the score then depends on the preset's render, itself a fixed non-linear function of its
  static features, as with real presets (a static-only model must learn the render: for experiments
  on the static scoring path; ``data.generator.score_from=render``);
* both standardised to ``s_z``, ``t_z``; ``spatial_score = sigmoid(s_z)``, ``temporal_score = sigmoid(t_z)``;
* ``score = 5 * sigmoid(W_S * s_z + W_T * t_z + BIAS + noise)``, ``noise ~ N(0, NOISE_STD)``.

Splits: 10% of presets (chosen by hash of the id) are held out; pairs among them form
``test_unseen``. The other pairs split by pair hash into train / val / test_seen, and
``GOLDEN_PER_SIDE`` clear positives (score >= 4) and negatives (score <= 2) are held out as ``golden``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from aivj.contract.layout import ranks_within_pack, score_bins, write_dataset
from aivj.contract.schema import (
    FEATURE_DIM,
    RENDER_DIM,
    RENDER_LAYOUT_DIM,
    RENDER_MOTION_DIM,
    RENDER_SUMMARY_DIM,
)
from aivj.contract.thresholds import ELITE_SCORE, NEGATIVE_SCORE

SPATIAL_DIMS = slice(0, 4)
TEMPORAL_DIMS = slice(4, 8)
W_S, W_T, BIAS = 2.0, 1.5, -0.3
GENERATOR_VERSION = 2  # bump when the generative model changes: cached datasets are keyed by it


@dataclass(frozen=True)
class SyntheticSpec:
    n_presets: int = 2000
    n_pairs: int = 60000
    noise_std: float = 0.3
    unseen_fraction: float = 0.1
    golden_per_side: int = 300
    seed: int = 7
    score_from: str = "static"  # "render": the planted terms read the render summary (see above)

    def fingerprint(self) -> str:
        spec = asdict(self)
        if spec["score_from"] == "static":
            del spec["score_from"]  # datasets generated before the option keep their fingerprint
        return hashlib.sha256(
            json.dumps({**spec, "v": GENERATOR_VERSION, "w": [W_S, W_T, BIAS]}, sort_keys=True).encode()
        ).hexdigest()[:10]


def _hash01(keys: np.ndarray, salt: str) -> np.ndarray:
    """Stable uniform [0,1) per key: selection must not move when the dataset grows."""
    out = np.empty(len(keys), dtype=np.float64)
    for i, k in enumerate(keys):
        out[i] = int.from_bytes(hashlib.blake2b(f"{salt}:{k}".encode(), digest_size=8).digest(), "little") / 2**64
    return out


def planted_terms(fg: np.ndarray, bg: np.ndarray, rng_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw spatial and temporal terms of the generative model (before standardisation)."""
    rng = np.random.default_rng(rng_seed + 1)
    a = rng.uniform(0.5, 1.5, size=4)
    b = rng.choice([-1.0, 1.0], size=4) * rng.uniform(0.5, 1.5, size=4)
    s = np.abs(fg[:, SPATIAL_DIMS] - bg[:, SPATIAL_DIMS]) @ a + 0.5 * fg[:, 0]
    t = (fg[:, TEMPORAL_DIMS] * bg[:, TEMPORAL_DIMS]) @ b
    return s, t


def generate(spec: SyntheticSpec) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(spec.seed)
    feats = rng.uniform(-1, 1, size=(spec.n_presets, FEATURE_DIM)).astype(np.float32)
    w_r = rng.normal(0, 1 / np.sqrt(FEATURE_DIM), size=(FEATURE_DIM, RENDER_DIM))
    render = np.tanh(feats @ w_r * 2).astype(np.float32)
    ids = np.array([hashlib.sha256(f"synthetic:{spec.seed}:{i}".encode()).hexdigest()[:20] for i in range(spec.n_presets)])
    unseen = _hash01(ids, "unseen") < spec.unseen_fraction
    seen_idx, unseen_idx = np.flatnonzero(~unseen), np.flatnonzero(unseen)

    n_unseen_pairs = int(spec.n_pairs * spec.unseen_fraction)
    fg = np.concatenate([rng.choice(seen_idx, spec.n_pairs - n_unseen_pairs), rng.choice(unseen_idx, n_unseen_pairs)])
    bg = np.concatenate([rng.choice(seen_idx, spec.n_pairs - n_unseen_pairs), rng.choice(unseen_idx, n_unseen_pairs)])
    # No self-pairs and no repeated (fg, bg): a pair must live in exactly one split.
    _, first = np.unique(fg.astype(np.int64) * spec.n_presets + bg, return_index=True)
    keep = np.zeros(len(fg), dtype=bool)
    keep[first] = True
    keep &= fg != bg
    fg, bg = fg[keep], bg[keep]
    if spec.score_from not in ("static", "render"):
        raise ValueError(f"synthetic score_from must be 'static' or 'render', got {spec.score_from!r}")
    drivers = feats if spec.score_from == "static" else render[:, :RENDER_SUMMARY_DIM]
    s, t = planted_terms(drivers[fg], drivers[bg], spec.seed)
    s_z, t_z = (s - s.mean()) / s.std(), (t - t.mean()) / t.std()
    logit = W_S * s_z + W_T * t_z + BIAS + rng.normal(0, spec.noise_std, size=len(s))
    score = (5 / (1 + np.exp(-logit))).astype(np.float32)

    n = len(score)
    pair_no = np.arange(n, dtype=np.int64)
    split = np.full(n, "train", dtype=object)
    u = _hash01(pair_no, "split")
    split[(u >= 0.8) & (u < 0.9)] = "val"
    split[u >= 0.9] = "test_seen"
    split[unseen[fg] & unseen[bg]] = "test_unseen"
    for mask in (score >= ELITE_SCORE, score <= NEGATIVE_SCORE):
        cand = np.flatnonzero(mask & (split == "train"))
        cand = cand[np.argsort(_hash01(pair_no[cand], "golden"))][: spec.golden_per_side]
        split[cand] = "golden"

    pack = np.full(n, f"synthetic_{spec.fingerprint()}", dtype=object)
    rank, quartile = ranks_within_pack(pack, score)
    presets = pa.table(
        {
            "preset_id": ids,
            "features": pa.FixedSizeListArray.from_arrays(pa.array(feats.ravel()), FEATURE_DIM),
            "feature_version": np.zeros(spec.n_presets, dtype=np.int16),
            "name": [f"synthetic_{i:05d}" for i in range(spec.n_presets)],
            "source": ["synthetic"] * spec.n_presets,
            "collection": ["synthetic"] * spec.n_presets,
            "style_tags": [[] for _ in range(spec.n_presets)],
            "render_summary": pa.FixedSizeListArray.from_arrays(
                pa.array(render[:, :RENDER_SUMMARY_DIM].ravel()), RENDER_SUMMARY_DIM
            ),
            "render_layout": pa.FixedSizeListArray.from_arrays(
                pa.array(render[:, RENDER_SUMMARY_DIM : RENDER_SUMMARY_DIM + RENDER_LAYOUT_DIM].ravel()), RENDER_LAYOUT_DIM
            ),
            "render_motion": pa.FixedSizeListArray.from_arrays(
                pa.array(render[:, -RENDER_MOTION_DIM:].ravel()), RENDER_MOTION_DIM
            ),
        }
    )
    pairs = pa.table(
        {
            "pack": pack,
            "pair": pair_no,
            "fg_id": ids[fg],
            "bg_id": ids[bg],
            "spatial_score": (1 / (1 + np.exp(-s_z))).astype(np.float32),
            "temporal_score": (1 / (1 + np.exp(-t_z))).astype(np.float32),
            "score": score,
            "quality01": score / 5,
            "rank": rank,
            "rank_quartile": quartile,
            "score_bin": score_bins(score),
            "is_elite": score >= ELITE_SCORE,
            "source": np.full(n, "synthetic", dtype=object),
            "split": split,
        }
    )
    return presets, pairs


def ensure_synthetic(out_dir: str | Path, **spec_kwargs) -> Path:
    """Generate the dataset for ``spec`` once under ``out_dir/<fingerprint>`` and return that folder."""
    spec = SyntheticSpec(**spec_kwargs)
    target = Path(out_dir) / spec.fingerprint()
    if not (target / "_summary.json").exists():
        presets, pairs = generate(spec)
        write_dataset(presets, pairs, target, summary={"generator": "synthetic", "spec": asdict(spec)})
    return target
