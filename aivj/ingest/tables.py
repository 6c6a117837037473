"""Build the presets and pairs tables from checked rows and write them with the quarantine list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from aivj.contract.atomic import write_json_atomic, write_jsonl_atomic
from aivj.contract.layout import ranks_within_pack, score_bins, write_dataset
from aivj.contract.schema import (
    FEATURE_DIM,
    PAIRS_SCHEMA,
    PRESETS_SCHEMA,
    RANK_QUARTILES,
)
from aivj.ingest.splits import assign_split
from aivj.milk.batch import PresetRecord
from aivj.milk.features import FEATURE_VERSION

_RENDER_COLUMNS = ("render_summary", "render_layout", "render_motion")


def _old_presets(out_dir: Path) -> dict[str, dict]:
    path = Path(out_dir) / "presets.parquet"
    if not path.is_file():
        return {}
    table = pq.read_table(path)
    if table.num_rows and int(table["feature_version"][0].as_py()) != FEATURE_VERSION:
        return {}
    return {row["preset_id"]: row for row in table.to_pylist()}


def cached_records(paths: list[str], registry) -> dict[str, PresetRecord]:
    """Records for unchanged files whose features are already in ``presets.parquet``."""
    old = _old_presets(registry.path.parent)
    out = {}
    for path in paths:
        entry = registry.lookup(path)
        if entry is None:
            continue
        if entry["error"]:
            out[path] = PresetRecord(path, entry["preset_id"], error=entry["error"])
        elif entry["preset_id"] in old:
            row = old[entry["preset_id"]]
            out[path] = PresetRecord(
                path, row["preset_id"], np.asarray(row["features"], np.float32), tuple(row["style_tags"] or ())
            )
    return out


def _ranks(pairs, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Computed ranks, replaced by the manifest's own ranks in packs where every row has one."""
    pack = np.array([p.pack for p in pairs], dtype=object)
    rank, quartile = ranks_within_pack(pack, score)
    for name in np.unique(pack):
        idx = np.flatnonzero(pack == name)
        given = [pairs[i].rank for i in idx]
        if all(r is not None for r in given):
            order = idx[np.argsort(np.asarray(given), kind="stable")]
            rank[idx] = given
            q = np.minimum((np.arange(len(order)) * 4) // len(order), 3)
            quartile[order] = np.asarray(RANK_QUARTILES, dtype=object)[q]
    return rank, quartile


def pairs_table(pairs, records: dict[str, PresetRecord]) -> pa.Table:
    pairs = sorted(pairs, key=lambda p: (p.pack, p.pair))
    fg = [records[str(p.fg_path)].preset_id for p in pairs]
    bg = [records[str(p.bg_path)].preset_id for p in pairs]
    score = np.array([p.score for p in pairs], dtype=np.float64)
    rank, quartile = _ranks(pairs, score)
    n = len(pairs)
    columns = {
        "pack": [p.pack for p in pairs],
        "pair": [p.pair for p in pairs],
        "fg_id": fg,
        "bg_id": bg,
        "spatial_score": pa.nulls(n, pa.float32()),
        "temporal_score": pa.nulls(n, pa.float32()),
        "score": score.astype(np.float32),
        "quality01": np.array([p.quality01 for p in pairs], dtype=np.float32),
        "rank": rank,
        "rank_quartile": list(quartile),
        "score_bin": score_bins(score),
        "is_elite": [p.is_elite for p in pairs],
        "source": [p.layout for p in pairs],
        "split": [assign_split(f, b, p.is_elite) for f, b, p in zip(fg, bg, pairs)],
    }
    return pa.table(columns).cast(PAIRS_SCHEMA)


def presets_table(pairs, records: dict[str, PresetRecord], old: dict[str, dict]) -> pa.Table:
    """One row per distinct preset; name/collection from its alphabetically first file."""
    first: dict[str, tuple[str, str, str]] = {}  # id -> (path, pack, layout)
    for p in pairs:
        for path in (str(p.fg_path), str(p.bg_path)):
            pid = records[path].preset_id
            if pid not in first or path < first[pid][0]:
                first[pid] = (path, p.pack, p.layout)
    ids = sorted(first)
    feats = np.stack([records[first[i][0]].features for i in ids]) if ids else np.zeros((0, FEATURE_DIM), np.float32)
    columns = {
        "preset_id": ids,
        "features": pa.FixedSizeListArray.from_arrays(pa.array(feats.reshape(-1), pa.float32()), FEATURE_DIM),
        "feature_version": pa.array([FEATURE_VERSION] * len(ids), pa.int16()),
        "name": [Path(first[i][0]).stem for i in ids],
        "source": [first[i][2] for i in ids],
        "collection": [first[i][1] for i in ids],
        "style_tags": [list(records[first[i][0]].style_tags) for i in ids],
    }
    for col in _RENDER_COLUMNS:  # keep what the refinery already rendered
        columns[col] = pa.array([old.get(i, {}).get(col) for i in ids], PRESETS_SCHEMA.field(col).type)
    for f in PRESETS_SCHEMA:  # columns ingest does not fill (category, twin_group): kept from the old table
        if f.name not in columns:
            columns[f.name] = pa.array([old.get(i, {}).get(f.name) for i in ids], f.type)
    return pa.table({f.name: columns[f.name] for f in PRESETS_SCHEMA}).cast(PRESETS_SCHEMA)


def write_quarantine(out_dir: Path, quarantine: list[dict]) -> None:
    rows = sorted(quarantine, key=lambda q: (q["source"], q["pack"], q["pair"] if q["pair"] is not None else -1, q["reason"]))
    write_jsonl_atomic(rows, out_dir / "_quarantine.jsonl")


def write_output(out_dir: Path, pairs, records, quarantine, summary: dict, dataset: bool = True) -> dict:
    """Quarantine list always; the dataset (and the summary inside it) only when ``dataset``."""
    out_dir = Path(out_dir)
    write_quarantine(out_dir, quarantine)
    if not dataset:
        write_json_atomic(summary, out_dir / "_summary.json")
        return summary
    old = _old_presets(out_dir)
    pairs_tab = pairs_table(pairs, records)
    previous = _previous_pair_keys(out_dir)
    summary["pairs_new"] = sum(1 for k in zip(pairs_tab["pack"].to_pylist(), pairs_tab["pair"].to_pylist()) if k not in previous)
    return write_dataset(presets_table(pairs, records, old), pairs_tab, out_dir, summary)


def _previous_pair_keys(out_dir: Path) -> set:
    if not (out_dir / "pairs").is_dir():
        return set()
    from aivj.contract.layout import pairs_dataset

    table = pairs_dataset(out_dir).to_table(columns=["pack", "pair"])
    return set(zip(table["pack"].to_pylist(), table["pair"].to_pylist()))
