"""A pack's pair list, from ``pairs-manifest.v0.json`` (web app) or ``manifest.jsonl`` (generator).

A thin view of ``aivj.ingest.packs.read_pack_rows``, the one manifest reader: rows it sets aside
(bad lines, duplicate pair ids after the first, FG and BG the same file) are not in ``pairs`` and
are listed in ``set_aside``. Paths written on other machines (``/mnt/d/aidata/...``, ``D:\\aidata\\...``,
``/presets/<pack>/fg/x.milk``) resolve inside the pack folder by their tail (``aivj.ingest.sources``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aivj.ingest.packs import read_pack_rows
from aivj.ingest.sources import resolve_preset


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
