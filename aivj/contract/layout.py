"""Read and write the presets/pairs layout defined in ``schema`` (atomic, Snappy, dictionary).

Directory layout::

    DIR/presets.parquet                       one row per distinct preset (content hash)
    DIR/.presets.arrow                        the same table as Arrow IPC (memory-mapped cache; hidden)
    DIR/pairs/score_bin=<0..4>/rank_quartile=<Q1..Q4>/part-0.parquet   (+ fg_row, bg_row: rows in presets)
    DIR/elite.parquet                         the elite pairs again, small, for memory mapping
    DIR/_summary.json                         counts (rows_in / rows_written / rows_quarantined ...)
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from aivj.contract.atomic import atomic_dir, atomic_path, write_json_atomic
from aivj.contract.schema import (
    LAYOUT_VERSION,
    PAIR_ROW_COLUMNS,
    PAIRS_SCHEMA,
    PARTITIONING,
    PRESETS_SCHEMA,
    RANK_QUARTILES,
)

PARQUET_OPTIONS = dict(compression="snappy", use_dictionary=True)


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **PARQUET_OPTIONS)


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
    missing = set(
        pc.unique(pa.concat_arrays([pairs["fg_id"].combine_chunks(), pairs["bg_id"].combine_chunks()])).to_pylist()
    ) - set(presets["preset_id"].to_pylist())
    if missing:
        raise ValueError(f"{out_dir}: {len(missing)} pair preset ids are not in the presets table, e.g. {sorted(missing)[0]}")

    out_dir.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(presets, out_dir / "presets.parquet")
    write_presets_ipc(presets, out_dir)
    with atomic_dir(out_dir / "pairs") as tmp:
        ds.write_dataset(
            with_preset_rows(pairs, presets, parquet_fingerprint(out_dir / "presets.parquet")),
            tmp,
            format="parquet",
            partitioning=ds.partitioning(PARTITIONING, flavor="hive"),
            basename_template="part-{i}.parquet",
            file_options=ds.ParquetFileFormat().make_write_options(**PARQUET_OPTIONS),
            existing_data_behavior="overwrite_or_ignore",
            max_rows_per_group=64 * 1024,
        )
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


PRESETS_IPC = ".presets.arrow"
_FINGERPRINT_KEY = b"aivj.presets_parquet"
_NULL_COLUMNS_KEY = b"aivj.null_columns"


def parquet_fingerprint(path: Path) -> str:
    """Size + hash of the Parquet footer (row groups, offsets, statistics): changes with the content."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(size - 8)
        footer_len = int.from_bytes(fh.read(4), "little")
        fh.seek(size - 8 - footer_len)
        footer = fh.read(footer_len)
    return f"{size}:{hashlib.sha256(footer).hexdigest()[:32]}"


def write_presets_ipc(presets: pa.Table, out_dir: Path) -> None:
    """The presets table as one uncompressed Arrow IPC record batch beside presets.parquet.

    Reading it is a memory map (features become numpy views without a copy); it records the
    fingerprint of the presets.parquet it mirrors, so a stale copy is ignored, never trusted.
    """
    path = Path(out_dir) / PRESETS_IPC
    # A null fixed-size list still stores its zeros (96 floats a preset for unrendered sets): leave
    # all-null columns out and name them; the reader puts nulls back.
    empty = [name for name in presets.column_names if presets.num_rows and presets[name].null_count == presets.num_rows]
    meta = {
        _FINGERPRINT_KEY: parquet_fingerprint(Path(out_dir) / "presets.parquet").encode(),
        _NULL_COLUMNS_KEY: json.dumps(empty).encode(),
    }
    presets = presets.drop_columns(empty)
    with (
        atomic_path(path) as tmp,
        pa.OSFile(str(tmp), "wb") as sink,
        pa.ipc.new_file(sink, presets.schema.with_metadata(meta)) as writer,
    ):
        writer.write_table(presets.combine_chunks(), max_chunksize=max(presets.num_rows, 1))


def _null_column(type_: pa.DataType, n: int) -> pa.Array:
    """All-null column; a fixed-size list's values come from untouched zero pages instead of a memset."""
    if not pa.types.is_fixed_size_list(type_):
        return pa.nulls(n, type_)
    width = type_.list_size
    values = pa.Array.from_buffers(
        type_.value_type, n * width, [None, pa.py_buffer(np.zeros(n * width, type_.value_type.to_pandas_dtype()))]
    )
    return pa.Array.from_buffers(type_, n, [pa.py_buffer(np.zeros((n + 7) // 8, np.uint8))], null_count=n, children=[values])


def _read_presets_ipc(data_dir: Path, columns: list[str] | None) -> pa.Table | None:
    """The memory-mapped IPC copy, or None when it is absent, stale or lacks a column (caller reads Parquet)."""
    path = Path(data_dir) / PRESETS_IPC
    if not path.is_file():
        return None
    try:
        reader = pa.ipc.open_file(pa.memory_map(str(path)))
        meta = reader.schema.metadata or {}
        parquet = Path(data_dir) / "presets.parquet"
        if meta.get(_FINGERPRINT_KEY, b"").decode() != parquet_fingerprint(parquet):
            return None
        table = reader.read_all()
        schema = pq.read_schema(parquet)
        for name in json.loads(meta.get(_NULL_COLUMNS_KEY, b"[]")):
            table = table.append_column(schema.field(name), _null_column(schema.field(name).type, table.num_rows))
        table = table.select(columns if columns is not None else schema.names)
    except (OSError, ValueError, KeyError):  # ArrowInvalid is a ValueError: a torn, foreign or older file
        return None
    return table.replace_schema_metadata(None)


def read_presets(data_dir: Path, columns: list[str] | None = None) -> pa.Table:
    """The presets table (only ``columns`` when given): from .presets.arrow when it is current."""
    table = _read_presets_ipc(data_dir, columns)
    if table is not None:
        return table
    return pq.read_table(Path(data_dir) / "presets.parquet", columns=columns)


def pairs_dataset(data_dir: Path) -> ds.Dataset:
    return ds.dataset(Path(data_dir) / "pairs", format="parquet", partitioning=ds.partitioning(PARTITIONING, flavor="hive"))


def with_preset_rows(pairs: pa.Table, presets: pa.Table, fingerprint: str) -> pa.Table:
    """``pairs`` plus each pair's row in ``presets`` (int32) and that file's fingerprint in the schema
    metadata: the id join done once at write time instead of on every read."""
    for name, side in zip(PAIR_ROW_COLUMNS, ("fg_id", "bg_id")):
        pairs = pairs.append_column(
            pa.field(name, pa.int32(), nullable=False), pc.index_in(pairs[side], value_set=presets["preset_id"])
        )
    return pairs.replace_schema_metadata({_FINGERPRINT_KEY: fingerprint.encode()})


def stored_rows_current(dataset: ds.Dataset, data_dir: Path) -> bool:
    """Whether the pairs files carry preset rows written against today's presets.parquet (layout 3);
    older layouts, or a presets table replaced since, need the id join instead."""
    meta = dataset.schema.metadata or {}
    if not set(PAIR_ROW_COLUMNS) <= set(dataset.schema.names) or _FINGERPRINT_KEY not in meta:
        return False
    return meta[_FINGERPRINT_KEY].decode() == parquet_fingerprint(Path(data_dir) / "presets.parquet")


class LayoutError(ValueError):
    """A dataset folder that does not hold the layout; the message (one line) names the file."""


def check_parquet(path: Path) -> None:
    try:
        pq.read_metadata(path)
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) for a torn footer
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayoutError(f"{path}: not a readable Parquet file ({first})") from None
