"""Add the coupling columns to a dataset's pairs table, every existing column and byte of metadata kept.

Each partition file is read, gets ``COUPLING_COLUMNS`` (null where a pair was not searched), and is
written again under the same name; the presets table and the other files are copied unchanged (so
the pairs files' fingerprint of presets.parquet stays valid). Out of place by default: the searched
dataset goes under the state root; ``out == data`` rewrites the pairs folder in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from aivj.contract.atomic import atomic_dir, write_json_atomic
from aivj.contract.coupling import PAIR_COUPLING_FIELDS
from aivj.contract.layout import PARQUET_OPTIONS

COPIED = ("presets.parquet", ".presets.arrow", "elite.parquet", "_summary.json", "DATASET.md")


def _keys(pack, pair) -> pa.Array:
    return pc.binary_join_element_wise(pc.cast(pack, pa.string()), pc.cast(pair, pa.string()), "\x00")


def with_coupling(table: pa.Table, keys: pa.Array, columns: dict[str, np.ndarray]) -> tuple[pa.Table, int]:
    """``table`` (one partition file) plus the coupling columns of the rows whose (pack, pair) is in ``keys``."""
    at = pc.index_in(_keys(table["pack"], table["pair"]), value_set=keys)
    found = at.is_valid().to_numpy(zero_copy_only=False)
    idx = at.fill_null(0).to_numpy()
    for field in PAIR_COUPLING_FIELDS:
        if field.name in table.column_names:
            table = table.drop_columns([field.name])
        values = pa.array(np.asarray(columns[field.name])[idx], type=field.type, mask=~found)
        table = table.append_column(field, values)
    return table, int(found.sum())


def write_coupling_dataset(data_dir: Path, out_dir: Path, pack, pair, columns: dict[str, np.ndarray], summary: dict) -> dict:
    """Write ``data_dir`` with coupling columns to ``out_dir`` (may be ``data_dir``); returns the counts."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    keys = _keys(pa.array(pack), pa.array(pair))
    if pc.count_distinct(keys).as_py() != len(keys):
        raise ValueError(f"{data_dir}/pairs: a (pack, pair) key is given twice")
    files = sorted((data_dir / "pairs").rglob("*.parquet"))
    if not files:
        raise ValueError(f"{data_dir}/pairs: no Parquet files")
    rows = written = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out_dir / "pairs") as tmp:
        for f in files:
            t = pq.read_table(f)
            meta = t.schema.metadata
            t, n = with_coupling(t, keys, columns)
            t = t.replace_schema_metadata(meta)
            dest = Path(tmp) / f.relative_to(data_dir / "pairs")
            dest.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(t, dest, row_group_size=64 * 1024, **PARQUET_OPTIONS)
            rows, written = rows + t.num_rows, written + n
    if out_dir.resolve() != data_dir.resolve():
        for name in COPIED:
            if (data_dir / name).exists():
                shutil.copy2(data_dir / name, out_dir / name)
        if (data_dir / "regression").is_dir():
            shutil.copytree(data_dir / "regression", out_dir / "regression", dirs_exist_ok=True)
    info = {**summary, "pairs_in_dataset": rows, "pairs_with_coupling": written, "pairs_given": len(keys)}
    if written != len(keys):
        raise ValueError(f"{data_dir}/pairs: {len(keys) - written} searched pair(s) are not in the pairs table")
    write_json_atomic(info, out_dir / "coupling.json")
    return info
