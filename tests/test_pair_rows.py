"""Layout 3: the pairs files carry each pair's preset rows, valid only against the presets.parquet
written with them; readers fall back to the id join for older datasets and replaced presets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from aivj.contract.layout import PRESETS_IPC, pairs_dataset, stored_rows_current, write_parquet_atomic
from aivj.contract.schema import PAIR_ROW_COLUMNS
from datamodules.pairs import PresetTable, load_splits, scan_pairs
from tests.test_presets_ipc import _dataset


def _join_by_id(out, table):
    ids = pq.read_table(out / "presets.parquet", columns=["preset_id"])["preset_id"]
    return [pc.index_in(table[c], value_set=ids).to_numpy() for c in ("fg_id", "bg_id")]


def test_stored_rows_are_the_id_join(tmp_path):
    out = _dataset(tmp_path)
    dataset = pairs_dataset(out)
    assert stored_rows_current(dataset, out)
    table = dataset.to_table(columns=["fg_id", "bg_id", *PAIR_ROW_COLUMNS])
    fg, bg = _join_by_id(out, table)
    np.testing.assert_array_equal(table["fg_row"].to_numpy(), fg)
    np.testing.assert_array_equal(table["bg_row"].to_numpy(), bg)
    got, fg_idx, bg_idx = scan_pairs(out, PresetTable.load(out), ["score"], pc.field("score_bin") >= 2)
    assert "fg_id" not in got.column_names  # the stored rows were used: no string ids read
    chosen = dataset.to_table(columns=["fg_id", "bg_id"], filter=pc.field("score_bin") >= 2)
    assert 0 < len(fg_idx) < table.num_rows
    np.testing.assert_array_equal(fg_idx, _join_by_id(out, chosen)[0])
    np.testing.assert_array_equal(bg_idx, _join_by_id(out, chosen)[1])


def test_replaced_presets_table_falls_back_to_the_id_join(tmp_path):
    out = _dataset(tmp_path)
    presets = pq.read_table(out / "presets.parquet")
    shuffled = presets.take(pa.array(np.random.default_rng(0).permutation(presets.num_rows)))
    write_parquet_atomic(shuffled, out / "presets.parquet")  # another writer: the stored rows are stale now
    (out / PRESETS_IPC).unlink()
    assert not stored_rows_current(pairs_dataset(out), out)
    p = PresetTable.load(out)
    split = load_splits(out, p, ["train"])["train"]
    table = pairs_dataset(out).to_table(columns=["fg_id", "bg_id"])
    fg, bg = _join_by_id(out, table)
    assert sorted(zip(split.cols["fg_idx"], split.cols["bg_idx"])) == sorted(zip(fg, bg))
    ids = p.ids.to_numpy(zero_copy_only=False)
    assert sorted(ids[split.cols["fg_idx"]]) == sorted(table["fg_id"].to_pylist())
