"""A pack's pair list and its presets' static features, from ``pairs-manifest.v0.json`` (web app) or ``manifest.jsonl`` (generator).

A thin view of ``aivj.ingest.packs.read_pack_rows``, the one manifest reader: rows it sets aside
(bad lines, duplicate pair ids after the first, FG and BG the same file) are not in ``pairs`` and
are listed in ``set_aside``. Paths written on other machines (``/mnt/d/aidata/...``, ``D:\\aidata\\...``,
``/presets/<pack>/fg/x.milk``) resolve inside the pack folder by their tail (``aivj.ingest.sources``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aivj.contract.schema import FEATURE_DIM
from aivj.ingest.packs import read_pack_rows
from aivj.ingest.sources import resolve_preset
from aivj.milk.features import extract_features
from aivj.milk.parser import parse_milk


@dataclass
class PackPairs:
    pack: str
    source: Path
    pairs: list[tuple[int, str, str]]  # usable pairs only: (pair id, fg path as written, bg path as written)
    set_aside: list[dict] = field(default_factory=list)  # {"pair", "reason", "detail", "fg", "bg"}
    note: str = ""  # one line saying what was set aside, empty when nothing was


def read_pack(pack_dir: Path) -> PackPairs:
    """ValueError (one line naming the file) when the pack has no readable manifest."""
    read = read_pack_rows(pack_dir)
    pairs = [(r.pair, r.fg_ref, r.bg_ref) for r in read.rows]
    return PackPairs(read.pack, read.source, pairs, read.set_aside, read.summary())


def resolve(pack_dir: Path, written: str, side: str) -> Path | None:
    """The local file for a manifest path, or None when it is not there."""
    return resolve_preset(written, Path(pack_dir), side)


def load_features(pack_dir: Path, pairs) -> tuple[dict[Path, int], np.ndarray, list, int]:
    """Feature rows per distinct file; the usable pairs as (pair, fg row, bg row); missing count."""
    rows, feats, usable, missing, bad = {}, [], [], 0, set()
    for pair, fg_written, bg_written in pairs:
        idx = []
        for written, side in ((fg_written, "fg"), (bg_written, "bg")):
            path = resolve(pack_dir, written, side)
            if path is not None and path not in rows and path not in bad:
                try:
                    feats.append(extract_features(parse_milk(path.read_bytes(), str(path))))
                    rows[path] = len(feats) - 1
                except ValueError as exc:  # MilkParseError names the file
                    print(f"aivj export: skipping {exc}", file=sys.stderr)
                    bad.add(path)
            idx.append(rows.get(path) if path is not None else None)
        missing += sum(i is None for i in idx)
        if None not in idx:
            usable.append((pair, idx[0], idx[1]))
    matrix = np.stack(feats).astype(np.float32) if feats else np.zeros((0, FEATURE_DIM), np.float32)
    return rows, matrix, usable, missing
