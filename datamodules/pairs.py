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
import torch
from torch.utils.data import Dataset

from datamodules.layout import pairs_dataset, read_presets
from datamodules.schema import FEATURE_DIM, RENDER_DIM

PAIR_COLUMNS = ["pack", "fg_id", "bg_id", "spatial_score", "temporal_score", "score", "rank", "is_elite", "split"]


def _fixed_list_to_numpy(col: pa.ChunkedArray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Values [n, width] float32 (zeros where null) and a validity mask [n]."""
    arr = col.combine_chunks()
    valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    out = np.zeros((len(arr), width), dtype=np.float32)
    if valid.any():
        filled = arr.filter(pa.array(valid))
        out[valid] = filled.flatten().to_numpy().reshape(-1, width)
    return out, valid


@dataclass
class PresetTable:
    ids: pa.Array
    static: np.ndarray  # [P, 64] float32
    render: np.ndarray  # [P, 96] float32, zeros where not rendered
    has_render: np.ndarray  # [P] float32

    @classmethod
    def load(cls, data_dir: Path) -> "PresetTable":
        t = read_presets(data_dir)
        static, _ = _fixed_list_to_numpy(t["features"], FEATURE_DIM)
        parts, masks = [], []
        for name in ("render_summary", "render_layout", "render_motion"):
            width = t.schema.field(name).type.list_size
            values, valid = _fixed_list_to_numpy(t[name], width)
            parts.append(values)
            masks.append(valid)
        render = np.concatenate(parts, axis=1)
        assert render.shape[1] == RENDER_DIM
        has = np.logical_and.reduce(masks).astype(np.float32)
        return cls(t["preset_id"].combine_chunks(), static, render * has[:, None], has)

    def index_of(self, ids: pa.ChunkedArray, where: str) -> np.ndarray:
        idx = pc.index_in(ids, value_set=self.ids)
        if idx.null_count:
            bad = pc.filter(ids, pc.is_null(idx))[0]
            raise ValueError(f"{where}: preset id {bad} is not in presets.parquet")
        return idx.to_numpy().astype(np.int64)


class PairSplit(Dataset):
    """One split's label columns; items are batches gathered by ``__getitems__``.

    Gathering uses numpy, not torch: a 36-row gather through torch's intra-op thread pool cost
    18 ms on a busy 2-core machine against 0.2 ms single-threaded (docs/benchmarks.md).
    """

    def __init__(self, presets: PresetTable, columns: dict[str, np.ndarray]) -> None:
        self.presets = presets
        self.cols = columns

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


def load_splits(data_dir: Path, presets: PresetTable, splits: list[str], filter_expr: ds.Expression | None = None) -> dict[str, PairSplit]:
    """Read the pair columns once (partition pruning through ``filter_expr``) and cut them by split."""
    dataset = pairs_dataset(data_dir)
    expr = pc.field("split").isin(splits)
    if filter_expr is not None:
        expr = expr & filter_expr
    table = dataset.to_table(columns=PAIR_COLUMNS, filter=expr)
    if table.num_rows == 0:
        raise ValueError(f"{data_dir}/pairs: no pairs in splits {splits}")
    # rank01 needs each pack's size over the whole dataset, not only the selected rows.
    packs = dataset.to_table(columns=["pack"])["pack"]
    sizes = pc.value_counts(packs).flatten()
    n_pack = sizes[1].to_numpy()[pc.index_in(table["pack"], value_set=sizes[0]).to_numpy()].astype(np.int64)
    rank = table["rank"].to_numpy()
    cols = {
        "fg_idx": presets.index_of(table["fg_id"], f"{data_dir}/pairs fg_id"),
        "bg_idx": presets.index_of(table["bg_id"], f"{data_dir}/pairs bg_id"),
        "score": table["score"].to_numpy().astype(np.float32),
        "rank01": (1 - (rank - 1) / np.maximum(n_pack - 1, 1)).astype(np.float32),
        "spatial": table["spatial_score"].fill_null(float("nan")).to_numpy().astype(np.float32),
        "temporal": table["temporal_score"].fill_null(float("nan")).to_numpy().astype(np.float32),
        "is_elite": table["is_elite"].to_numpy(zero_copy_only=False).astype(bool),
    }
    split = table["split"].to_numpy(zero_copy_only=False)
    return {s: PairSplit(presets, {k: v[split == s] for k, v in cols.items()}) for s in splits}


def restrict_to_collections(split: PairSplit, data_dir: Path, collections: list[str], name: str) -> PairSplit:
    """The pairs of ``split`` whose two presets both come from ``collections`` (presets' ``source``)."""
    source = read_presets(data_dir).column("source").to_numpy(zero_copy_only=False)
    known = set(source.tolist())
    unknown = [c for c in collections if c not in known]
    if unknown:
        raise ValueError(f"{data_dir}/presets.parquet: no preset comes from collection(s) {unknown}; known: {sorted(map(str, known))}")
    inside = np.isin(source, collections)
    keep = inside[split.cols["fg_idx"]] & inside[split.cols["bg_idx"]]
    if not keep.any():
        raise ValueError(f"{data_dir}: split {name} has no pair with both presets from {collections}")
    return PairSplit(split.presets, {k: v[keep] for k, v in split.cols.items()})
