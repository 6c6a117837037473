"""Columnar pair tables joined to the in-memory presets table, gathered a whole batch at a time.

Each split is a handful of numpy columns (indices into the presets table plus labels);
``__getitems__`` gathers a batch with fancy indexing, so there is no per-row Python work
anywhere between Parquet and the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import torch
from torch.utils.data import Dataset

from aivj.contract.layout import pairs_dataset, read_presets, stored_rows_current
from aivj.contract.schema import FEATURE_DIM, PAIR_ROW_COLUMNS, PARTITION_COLUMNS, RENDER_DIM
from datamodules.coupling_targets import coupling_columns, coupling_targets

RENDER_COLUMNS = ("render_summary", "render_layout", "render_motion")
PAIR_COLUMNS = ["pack", "pair", "fg_id", "bg_id", "spatial_score", "temporal_score", "score", "rank", "is_elite", "split"]


def one_array(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The column as one array; ``combine_chunks`` copies even a single chunk, so avoid it then."""
    if isinstance(col, pa.Array):
        return col
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _fixed_list_to_numpy(col: pa.ChunkedArray | pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Values [n, width] float32 (zeros where null) and a validity mask [n].

    Without nulls this is a view of the Arrow buffer (read-only; no copy when the table is one
    chunk, e.g. memory-mapped .presets.arrow); with nulls one vectorised ``where``.
    """
    arr = one_array(col)
    if arr.null_count == len(arr):  # e.g. render columns before the refinery ran
        return np.zeros((len(arr), width), dtype=np.float32), np.zeros(len(arr), dtype=bool)
    child = arr.values.slice(arr.offset * width, len(arr) * width)
    values = child.to_numpy(zero_copy_only=False).reshape(len(arr), width)
    if arr.null_count == 0:
        return values.astype(np.float32, copy=False), np.ones(len(arr), dtype=bool)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    return np.where(valid[:, None], values, 0).astype(np.float32), valid


def hex_id_keys(ids: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Content-hash ids (20 lower-case hex chars, aivj.milk.hashing) as (uint64 of the first 16, uint16
    of the last 4), decoded from the Arrow buffers without Python per row; None for any other ids."""
    if not pa.types.is_string(ids.type) or ids.null_count or len(ids) == 0:
        return None
    offsets = np.frombuffer(ids.buffers()[1], np.int32, len(ids) + 1, ids.offset * 4)
    n, start = len(ids), int(offsets[0])
    if offsets[-1] - start != 20 * n or not (np.diff(offsets) == 20).all():
        return None
    chars = np.frombuffer(ids.buffers()[2], np.uint8, 20 * n, start).reshape(n, 20)
    if not (((chars - 48) < 10) | ((chars - 97) < 6)).all():  # uint8 wraps: only 0-9 and a-f pass
        return None
    nibbles = (chars & 15) + 9 * (chars >> 6)  # '0'-'9' -> 0-9, 'a'-'f' -> 10-15
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]  # [n, 10] bytes, most significant first
    head = np.ascontiguousarray(packed[:, :8]).view(">u8").ravel().astype(np.uint64)
    tail = np.ascontiguousarray(packed[:, 8:]).view(">u2").ravel().astype(np.uint16)
    return head, tail


@dataclass
class PresetTable:
    ids: pa.Array
    static: np.ndarray  # [P, 64] float32
    render: np.ndarray  # [P, 96] float32, zeros where not rendered
    has_render: np.ndarray  # [P] float32

    @classmethod
    def load(cls, data_dir: Path) -> PresetTable:
        t = read_presets(data_dir, columns=["preset_id", "features", *RENDER_COLUMNS])
        static, _ = _fixed_list_to_numpy(t["features"], FEATURE_DIM)
        widths = [t.schema.field(name).type.list_size for name in RENDER_COLUMNS]
        assert sum(widths) == RENDER_DIM
        has = np.ones(t.num_rows, dtype=bool)
        for name in RENDER_COLUMNS:
            has &= t[name].is_valid().to_numpy(zero_copy_only=False)
        # Zeros unless every render column is present; untouched zero pages cost nothing (unrendered sets).
        render = np.zeros((t.num_rows, RENDER_DIM), dtype=np.float32)
        if has.any():
            rows = np.flatnonzero(has)
            for name, start, width in zip(RENDER_COLUMNS, np.cumsum([0, *widths]), widths):
                render[rows, start : start + width] = _fixed_list_to_numpy(t[name], width)[0][rows]
        return cls(one_array(t["preset_id"]), static, render, has.astype(np.float32))

    def _sorted_keys(self):
        """Hex keys of the ids when they are strictly increasing (write_dataset sorts by preset_id)."""
        if not hasattr(self, "_keys"):
            keys = hex_id_keys(self.ids)
            self._keys = keys if keys is not None and (keys[0][1:] > keys[0][:-1]).all() else None
        return self._keys

    def index_of(self, ids: pa.ChunkedArray | pa.Array, where: str) -> np.ndarray:
        """Row of each id in this table (int64); one vectorised search, no Python per row."""
        ids = one_array(ids)
        if pa.types.is_dictionary(ids.type):  # look up each distinct id once
            return self.index_of(ids.dictionary, where)[ids.indices.to_numpy(zero_copy_only=False)]
        known, query = self._sorted_keys(), hex_id_keys(ids)
        if known is not None and query is not None:
            order = np.argsort(query[0])  # sorted queries walk the table in order: ~3x faster than random ones
            idx = np.empty(len(order), dtype=np.int64)
            idx[order] = np.minimum(np.searchsorted(known[0], query[0][order]), len(known[0]) - 1)
            found = (known[0][idx] == query[0]) & (known[1][idx] == query[1])
            if found.all():
                return idx
            missing = pa.array(~found)
        else:
            idx = pc.index_in(ids, value_set=self.ids)
            if not idx.null_count:
                return idx.to_numpy().astype(np.int64)
            missing = pc.is_null(idx)
        bad = pc.filter(ids, missing)[0]
        raise ValueError(f"{where}: preset id {bad} is not in presets.parquet")


class PairSplit(Dataset):
    """One split's label columns; items are batches gathered by ``__getitems__``.

    Gathering uses numpy, not torch: a 36-row gather through torch's intra-op thread pool cost
    18 ms on a busy 2-core machine against 0.2 ms single-threaded (docs/benchmarks.md).
    """

    def __init__(self, presets: PresetTable, columns: dict[str, np.ndarray], keys: dict[str, pa.Array] | None = None) -> None:
        self.presets = presets
        self.cols = columns
        self.keys = keys  # "pack", "pair" per row (Arrow: converted only by who asks, e.g. a live-weights hook)

    def __len__(self) -> int:
        return len(self.cols["score"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([i])

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        batch = {k: v[idx] for k, v in self.cols.items()}
        p = self.presets
        for side in ("fg", "bg"):
            j = batch[f"{side}_idx"]
            batch[f"{side}_static"] = p.static[j]
            batch[f"{side}_render"] = p.render[j]
            batch[f"{side}_has_render"] = p.has_render[j]
        return {k: torch.from_numpy(v) for k, v in batch.items()}


def take_batch(batch):
    """collate_fn: ``__getitems__`` already built the batch (module-level so workers can pickle it)."""
    return batch


_NO_PREBUFFER = ds.ParquetFragmentScanOptions(pre_buffer=False)  # small local files: coalesced async reads cost more


def _read(dataset: ds.Dataset, columns: list[str], filter_expr: ds.Expression | None) -> pa.Table:
    """``dataset.to_table`` on one thread; without a filter, file by file with ParquetFile (half the
    CPU of the dataset scanner on 104,040 pairs, docs/benchmarks.md)."""
    if filter_expr is not None or set(columns) & set(PARTITION_COLUMNS):
        return dataset.to_table(columns=columns, filter=filter_expr, use_threads=False, fragment_scan_options=_NO_PREBUFFER)
    parts = [pq.ParquetFile(f.path, pre_buffer=False).read(columns=columns, use_threads=False) for f in dataset.get_fragments()]
    return pa.concat_tables(parts) if parts else dataset.schema.empty_table().select(columns)


def scan_pairs(
    data_dir: Path, presets: PresetTable, columns: list[str], filter_expr: ds.Expression | None = None
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The pairs' ``columns`` (partition pruning through ``filter_expr``) and each pair's FG and BG row
    in ``presets``: the rows stored by write_dataset while presets.parquet is the one they were written
    against (integers, no string ids read), else the id join."""
    dataset = pairs_dataset(data_dir)
    keys = list(PAIR_ROW_COLUMNS) if stored_rows_current(dataset, data_dir) else ["fg_id", "bg_id"]
    table = _read(dataset, [*columns, *(k for k in keys if k not in columns)], filter_expr)
    if keys[0] == "fg_row":
        rows = [table[k].to_numpy().astype(np.int64) for k in keys]
        if not len(rows[0]) or max(r.max() for r in rows) < len(presets.ids):
            return table, *rows
        table = _read(dataset, [*columns, "fg_id", "bg_id"], filter_expr)  # not ours: join by id
    where = f"{data_dir}/pairs"
    return table, presets.index_of(table["fg_id"], f"{where} fg_id"), presets.index_of(table["bg_id"], f"{where} bg_id")


def load_splits(
    data_dir: Path, presets: PresetTable, splits: list[str], filter_expr: ds.Expression | None = None
) -> dict[str, PairSplit]:
    """Read the pair columns once (partition pruning through ``filter_expr``) and cut them by split."""
    expr = pc.field("split").isin(splits)
    if filter_expr is not None:
        expr = expr & filter_expr
    columns = [c for c in PAIR_COLUMNS if c not in ("fg_id", "bg_id")]  # scan_pairs reads what the join needs
    dataset = pairs_dataset(data_dir)
    columns += coupling_columns(dataset.schema.names)
    table, fg_idx, bg_idx = scan_pairs(data_dir, presets, columns, expr)
    if table.num_rows == 0:
        raise ValueError(f"{data_dir}/pairs: no pairs in splits {splits}")
    # rank01 needs each pack's size over the whole dataset, not only the selected rows.
    packs = dataset.to_table(columns=["pack"])["pack"]
    sizes = pc.value_counts(packs).flatten()
    n_pack = sizes[1].to_numpy()[pc.index_in(table["pack"], value_set=sizes[0]).to_numpy()].astype(np.int64)
    rank = table["rank"].to_numpy()
    cols = {
        "fg_idx": fg_idx,
        "bg_idx": bg_idx,
        "score": table["score"].to_numpy().astype(np.float32),
        "rank01": (1 - (rank - 1) / np.maximum(n_pack - 1, 1)).astype(np.float32),
        "spatial": table["spatial_score"].fill_null(float("nan")).to_numpy().astype(np.float32),
        "temporal": table["temporal_score"].fill_null(float("nan")).to_numpy().astype(np.float32),
        "is_elite": table["is_elite"].to_numpy(zero_copy_only=False).astype(bool),
        **coupling_targets(table),
    }
    split = pc.index_in(table["split"], value_set=pa.array(splits)).to_numpy(zero_copy_only=False)
    keys = {"pack": one_array(table["pack"]), "pair": one_array(table["pair"])}
    return {
        s: PairSplit(presets, {k: v[split == i] for k, v in cols.items()}, {k: v.filter(split == i) for k, v in keys.items()})
        for i, s in enumerate(splits)
    }


def restrict_to_collections(split: PairSplit, data_dir: Path, collections: list[str], name: str) -> PairSplit:
    """The pairs of ``split`` whose two presets both come from ``collections`` (presets' ``source``)."""
    source = read_presets(data_dir).column("source").to_numpy(zero_copy_only=False)
    known = set(source.tolist())
    unknown = [c for c in collections if c not in known]
    if unknown:
        raise ValueError(
            f"{data_dir}/presets.parquet: no preset comes from collection(s) {unknown}; known: {sorted(map(str, known))}"
        )
    inside = np.isin(source, collections)
    keep = inside[split.cols["fg_idx"]] & inside[split.cols["bg_idx"]]
    if not keep.any():
        raise ValueError(f"{data_dir}: split {name} has no pair with both presets from {collections}")
    keys = {k: v.filter(keep) for k, v in split.keys.items()} if split.keys else None
    return PairSplit(split.presets, {k: v[keep] for k, v in split.cols.items()}, keys)
