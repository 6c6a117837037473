"""Regression tiers: buckets, a ~2% stratified fast set, and stability when rows are appended."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from aivj.contract.layout import write_dataset
from datamodules.synthetic import SyntheticSpec, generate
from datamodules.tiers import materialize_tiers, tier_of


def test_tier_thresholds():
    assert tier_of(np.array([5.0, 4.0, 3.99, 3.0, 2.5, 2.0, 1.99, 0.0])).tolist() == list("AABBCCDD")


def test_fast_set_is_about_two_percent_of_every_bucket_and_excludes_golden(tmp_path):
    presets, pairs = generate(SyntheticSpec(n_presets=400, n_pairs=20000, golden_per_side=50))
    write_dataset(presets, pairs, tmp_path)
    info = materialize_tiers(tmp_path)
    for tier in "ABCD":
        eligible, picked = info["eligible"][tier], info["fast"][tier]
        if eligible >= 1000:
            assert 0.01 < picked / eligible < 0.03, (tier, picked, eligible)
    fast = pq.read_table(tmp_path / "regression" / "fast.parquet")
    golden = pq.read_table(tmp_path / "regression" / "golden.parquet")
    assert golden.num_rows == 100
    assert not set(fast["pair"].to_pylist()) & set(golden["pair"].to_pylist())


def test_selection_does_not_change_when_rows_are_appended(tmp_path):
    presets, pairs = generate(SyntheticSpec(n_presets=300, n_pairs=10000, golden_per_side=20))
    first = pairs.slice(0, 6000)
    write_dataset(presets, first, tmp_path / "small")
    write_dataset(presets, pairs, tmp_path / "grown")
    materialize_tiers(tmp_path / "small")
    materialize_tiers(tmp_path / "grown")
    small = set(pq.read_table(tmp_path / "small" / "regression" / "fast.parquet")["pair"].to_pylist())
    grown = set(pq.read_table(tmp_path / "grown" / "regression" / "fast.parquet")["pair"].to_pylist())
    assert small and small <= grown
    assert {p for p in grown if p < 6000} == small
