"""Read and write the presets/pairs layout defined in ``schema`` (atomic, Snappy, dictionary).

Directory layout::

    DIR/presets.parquet                       one row per distinct preset (content hash)
    DIR/pairs/score_bin=<0..4>/rank_quartile=<Q1..Q4>/part-0.parquet
    DIR/elite.parquet                         the elite pairs again, small, for memory mapping
    DIR/_summary.json                         counts (rows_in / rows_written / rows_quarantined ...)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from datamodules.schema import (
    LAYOUT_VERSION,
    PAIRS_SCHEMA,
    PARTITIONING,
    PRESETS_SCHEMA,
    RANK_QUARTILES,
)

_WRITE_OPTS = dict(compression="snappy", use_dictionary=True)


def score_bins(score: np.ndarray) -> np.ndarray:
    """Bins [0,1) [1,2) [2,3) [3,4) [4,5] as int8 0..4."""
    return np.clip(np.floor(np.asarray(score, dtype=np.float64)), 0, 4).astype(np.int8)


def ranks_within_pack(pack: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1 = best score inside each pack (ties broken by row order) and its quartile label.

    Quartiles use the rank's position in the pack so Q1 is the top 25% of that pack.
    """
    pack = np.asarray(pack, dtype=object)
    score = np.asarray(score, dtype=np.float64)
    rank = np.zeros(len(score), dtype=np.int64)
    quartile = np.empty(len(score), dtype=object)
    for name in np.unique(pack):
        idx = np.flatnonzero(pack == name)
        order = idx[np.argsort(-score[idx], kind="stable")]
        rank[order] = np.arange(1, len(order) + 1)
        q = np.minimum((np.arange(len(order)) * 4) // max(len(order), 1), 3)
        quartile[order] = np.asarray(RANK_QUARTILES, dtype=object)[q]
    return rank, quartile


def _atomic_dir(target: Path):
    """A temp sibling directory that replaces ``target`` on success (same filesystem, rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))


def _swap_into_place(tmp: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, **_WRITE_OPTS)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(obj, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def write_dataset(presets: pa.Table, pairs: pa.Table, out_dir: Path, summary: dict | None = None) -> dict:
    """Write both tables under ``out_dir``; readers never see a half-written dataset.

    Rows are sorted (pack, pair) so re-running on the same input writes identical bytes.
    """
    out_dir = Path(out_dir)
    for field in PRESETS_SCHEMA:  # columns added in later layout versions are optional for writers
        if field.name not in presets.column_names and field.nullable:
            presets = presets.append_column(field.name, pa.nulls(presets.num_rows, field.type))
    presets = presets.select(PRESETS_SCHEMA.names).cast(PRESETS_SCHEMA)
    presets = presets.sort_by("preset_id")
    pairs = pairs.select(PAIRS_SCHEMA.names).cast(PAIRS_SCHEMA).sort_by([("pack", "ascending"), ("pair", "ascending")])
    missing = set(pc.unique(pa.concat_arrays([pairs["fg_id"].combine_chunks(), pairs["bg_id"].combine_chunks()])).to_pylist()) - set(
        presets["preset_id"].to_pylist()
    )
    if missing:
        raise ValueError(f"{out_dir}: {len(missing)} pair preset ids are not in the presets table, e.g. {sorted(missing)[0]}")

    out_dir.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(presets, out_dir / "presets.parquet")
    tmp = _atomic_dir(out_dir / "pairs")
    try:
        ds.write_dataset(
            pairs,
            tmp,
            format="parquet",
            partitioning=ds.partitioning(PARTITIONING, flavor="hive"),
            basename_template="part-{i}.parquet",
            file_options=ds.ParquetFileFormat().make_write_options(**_WRITE_OPTS),
            existing_data_behavior="overwrite_or_ignore",
            max_rows_per_group=64 * 1024,
        )
        _swap_into_place(tmp, out_dir / "pairs")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_parquet_atomic(pairs.filter(pc.field("is_elite")), out_dir / "elite.parquet")
    info = {
        "layout_version": LAYOUT_VERSION,
        "presets": presets.num_rows,
        "pairs": pairs.num_rows,
        "elite": int(pc.sum(pairs["is_elite"]).as_py() or 0),
        "splits": {k: int(v) for k, v in zip(*np.unique(pairs["split"].to_numpy(zero_copy_only=False), return_counts=True))},
    }
    info.update(summary or {})
    write_json_atomic(info, out_dir / "_summary.json")
    return info


def read_presets(data_dir: Path) -> pa.Table:
    return pq.read_table(Path(data_dir) / "presets.parquet")


def pairs_dataset(data_dir: Path) -> ds.Dataset:
    return ds.dataset(Path(data_dir) / "pairs", format="parquet", partitioning=ds.partitioning(PARTITIONING, flavor="hive"))
