"""The hidden .presets.arrow (the memory-mapped copy of presets.parquet) and the vectorised id join."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from aivj.contract.layout import (
    PRESETS_IPC,
    read_presets,
    write_dataset,
    write_parquet_atomic,
)
from aivj.contract.schema import FEATURE_DIM
from datamodules.pairs import (
    PresetTable,
    _fixed_list_to_numpy,
    hex_id_keys,
    load_splits,
)


def _ids(n: int, salt: str = "") -> list[str]:
    return [hashlib.sha256(f"{salt}{i}".encode()).hexdigest()[:20] for i in range(n)]


def _dataset(tmp_path, n=60, rendered=None):
    rng = np.random.default_rng(1)
    ids = _ids(n)
    presets = {"preset_id": ids, "features": pa.FixedSizeListArray.from_arrays(pa.array(rng.random(n * FEATURE_DIM, dtype=np.float32)), FEATURE_DIM),
               "feature_version": np.ones(n, np.int16), "name": [f"p{i}" for i in range(n)]}  # fmt: skip
    if rendered is not None:  # render columns present for the rows in ``rendered`` only
        for name, width in (("render_summary", 16), ("render_layout", 64), ("render_motion", 16)):
            values = pa.array(rng.random(n * width, dtype=np.float32))
            presets[name] = pa.FixedSizeListArray.from_arrays(values, width, mask=pa.array(~rendered))
    m = n // 2
    score = rng.random(m).astype(np.float32) * 5
    pairs = {"pack": ["a"] * m, "pair": np.arange(m), "fg_id": ids[:m], "bg_id": ids[::-1][:m], "spatial_score": pa.nulls(m, pa.float32()),
             "temporal_score": pa.nulls(m, pa.float32()), "score": score, "quality01": score / 5, "rank": np.argsort(-score) + 1,
             "rank_quartile": ["Q1"] * m, "score_bin": np.floor(score).clip(0, 4).astype(np.int8), "is_elite": score >= 4,
             "source": ["t"] * m, "split": ["train"] * m}  # fmt: skip
    write_dataset(pa.table(presets), pa.table(pairs), tmp_path)
    return tmp_path


def test_sidecar_is_written_and_reads_back_the_parquet_table(tmp_path):
    out = _dataset(tmp_path)
    assert (out / PRESETS_IPC).is_file()
    from_ipc = read_presets(out)
    from_parquet = pq.read_table(out / "presets.parquet")
    assert from_ipc.equals(from_parquet)  # all-null render columns were left out of the file and restored
    assert read_presets(out, ["features", "preset_id"]).column_names == ["features", "preset_id"]


def test_stale_or_torn_sidecar_is_ignored(tmp_path):
    out = _dataset(tmp_path)
    table = read_presets(out)
    changed = table.set_column(table.column_names.index("name"), "name", pa.array([f"renamed{i}" for i in range(table.num_rows)]))
    write_parquet_atomic(changed, out / "presets.parquet")  # a writer that does not know the sidecar
    assert read_presets(out)["name"][0].as_py() == "renamed0"
    (out / PRESETS_IPC).write_bytes(b"ARROW1 torn")
    assert read_presets(out)["name"][0].as_py() == "renamed0"


@pytest.mark.parametrize("with_sidecar", [True, False])
def test_preset_table_same_with_and_without_sidecar(tmp_path, with_sidecar):
    rendered = np.arange(60) % 3 != 0
    out = _dataset(tmp_path, rendered=rendered)
    if not with_sidecar:
        (out / PRESETS_IPC).unlink()
    p = PresetTable.load(out)
    t = pq.read_table(out / "presets.parquet")
    np.testing.assert_array_equal(p.static, np.asarray(t["features"].to_pylist(), np.float32))
    expect_has = np.asarray([v is not None for v in t["render_layout"].to_pylist()])
    np.testing.assert_array_equal(p.has_render, expect_has.astype(np.float32))
    assert not p.render[~expect_has].any()
    np.testing.assert_array_equal(
        p.render[expect_has, 16:80], np.asarray([v for v in t["render_layout"].to_pylist() if v is not None], np.float32)
    )
    split = load_splits(out, p, ["train"])["train"]
    np.testing.assert_array_equal(p.ids.take(split.cols["fg_idx"]).to_pylist(), pq.read_table(out / "pairs")["fg_id"].to_pylist())


def test_fixed_list_to_numpy_handles_nulls_and_slices():
    arr = pa.FixedSizeListArray.from_arrays(
        pa.array(np.arange(12, dtype=np.float32)), 3, mask=pa.array([False, True, False, False])
    )
    values, valid = _fixed_list_to_numpy(pa.chunked_array([arr.slice(1, 3)]), 3)
    np.testing.assert_array_equal(valid, [False, True, True])
    np.testing.assert_array_equal(values, [[0, 0, 0], [6, 7, 8], [9, 10, 11]])


def test_index_of_matches_arrow_index_in_and_names_a_missing_id():
    ids = sorted(_ids(500))
    table = PresetTable(pa.array(ids), np.zeros((500, 1), np.float32), np.zeros((500, 1), np.float32), np.zeros(500, np.float32))
    rng = np.random.default_rng(0)
    query = pa.array([ids[i] for i in rng.integers(0, 500, 2000)])
    expect = pc.index_in(query, value_set=table.ids).to_numpy()
    assert hex_id_keys(query) is not None  # the vectorised path, not the fallback
    np.testing.assert_array_equal(table.index_of(pa.chunked_array([query.slice(0, 700), query.slice(700)]), "q"), expect)
    np.testing.assert_array_equal(table.index_of(query.dictionary_encode(), "q"), expect)
    with pytest.raises(ValueError, match=f"where: preset id {_ids(1, 'x')[0]} is not in presets.parquet"):
        table.index_of(pa.array([ids[3], _ids(1, "x")[0]]), "where")


def test_index_of_falls_back_for_ids_that_are_not_content_hashes():
    ids = ["B", "a", "ABCDEF0123456789ABCD", "zz"]
    table = PresetTable(pa.array(ids), np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32), np.zeros(4, np.float32))
    assert hex_id_keys(pa.array(["ABCDEF0123456789ABCD"])) is None  # upper case is not a content hash
    np.testing.assert_array_equal(table.index_of(pa.array(["zz", "B", "ABCDEF0123456789ABCD"]), "q"), [3, 0, 2])
    with pytest.raises(ValueError, match="preset id abcdef0123456789abcd is not"):
        table.index_of(pa.array(["abcdef0123456789abcd"]), "q")


def test_sidecar_leaves_the_data_fingerprint_alone(tmp_path):
    from aivj.registry.api import data_hash

    out = _dataset(tmp_path)
    with_cache = data_hash(out)
    (out / PRESETS_IPC).unlink()
    assert data_hash(out) == with_cache  # a cache must not make the same data look like another dataset
