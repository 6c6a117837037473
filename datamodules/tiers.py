"""Regression tiers: score buckets A/B/C/D, a fast validation set and the golden set, as files.

Buckets (the same thresholds as the quality report): A score >= 4, B [3, 4), C [2, 3), D < 2.
The fast set takes each pair whose hash of ``pack/pair`` falls below ``fraction`` (2% by default):
about 2% of every bucket, and a pair once selected stays selected when the dataset grows,
because its hash does not depend on the other rows. Golden pairs and test splits are excluded:
the fast set watches for regressions on what the model was trained and tuned on.

Files beside the dataset::

    DIR/regression/fast.parquet     pack, pair, fg_id, bg_id, score, tier
    DIR/regression/golden.parquet   the golden split, same columns
    DIR/regression/tiers.json       thresholds, fraction, counts per tier
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aivj.contract.atomic import write_json_atomic
from aivj.contract.layout import pairs_dataset, write_parquet_atomic

TIER_NAMES = ("A", "B", "C", "D")
TIER_LOWER_BOUNDS = (4.0, 3.0, 2.0, float("-inf"))
COLUMNS = ["pack", "pair", "fg_id", "bg_id", "score", "split"]


def tier_of(score: np.ndarray) -> np.ndarray:
    score = np.asarray(score, dtype=np.float64)
    return np.select([score >= 4.0, score >= 3.0, score >= 2.0], ["A", "B", "C"], default="D").astype(object)


def stable_unit_hash(pack: np.ndarray, pair: np.ndarray, salt: str = "fast") -> np.ndarray:
    """Uniform [0, 1) per (pack, pair), independent of every other row."""
    out = np.empty(len(pair), dtype=np.float64)
    for i, (p, n) in enumerate(zip(pack, pair)):
        digest = hashlib.blake2b(f"{salt}:{p}/{n}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "little") / 2**64
    return out


def dataset_fingerprint(data_dir: str | Path) -> str:
    """Changes whenever the dataset is rewritten (write_dataset rewrites _summary.json each time)."""
    summary = Path(data_dir) / "_summary.json"
    return hashlib.sha256(summary.read_bytes()).hexdigest()[:16] if summary.exists() else ""


def tiers_are_current(data_dir: str | Path) -> bool:
    path = Path(data_dir) / "regression" / "tiers.json"
    return path.exists() and json.loads(path.read_text()).get("dataset") == dataset_fingerprint(data_dir)


def materialize_tiers(data_dir: str | Path, fraction: float = 0.02) -> dict:
    data_dir = Path(data_dir)
    table = pairs_dataset(data_dir).to_table(columns=COLUMNS).sort_by([("pack", "ascending"), ("pair", "ascending")])
    score = table["score"].to_numpy()
    table = table.append_column("tier", pa.array(tier_of(score), pa.string()))
    split = table["split"].to_numpy(zero_copy_only=False)
    candidates = np.isin(split, ["train", "val"])
    u = stable_unit_hash(table["pack"].to_numpy(zero_copy_only=False), table["pair"].to_numpy())
    fast = table.filter(pa.array(candidates & (u < fraction)))
    golden = table.filter(pc.equal(table["split"], "golden"))
    out = data_dir / "regression"
    write_parquet_atomic(fast.drop_columns(["split"]), out / "fast.parquet")
    write_parquet_atomic(golden.drop_columns(["split"]), out / "golden.parquet")
    info = {
        "dataset": dataset_fingerprint(data_dir),
        "fraction": fraction,
        "tiers": {n: f">= {lo}" if np.isfinite(lo) else "< 2.0" for n, lo in zip(TIER_NAMES, TIER_LOWER_BOUNDS)},
        "fast": {t: int(np.sum(fast["tier"].to_numpy(zero_copy_only=False) == t)) for t in TIER_NAMES},
        "eligible": {t: int(np.sum(table["tier"].to_numpy(zero_copy_only=False)[candidates] == t)) for t in TIER_NAMES},
        "golden": golden.num_rows,
    }
    write_json_atomic(info, out / "tiers.json")
    return info
