"""One reader of a pack's pair list, shared by ``aivj ingest``, ``aivj refine score`` and ``aivj export``.

A pack folder holds ``pairs-manifest.v0.json`` (the web app's runtime manifest; it wins) or
``manifest.jsonl`` (the generator's). Rows are read by ``aivj.ingest.readers`` and checked by
``set_aside_reason`` in file order, so every command keeps the same pairs: a line that is not a pair
(bad JSON, no fg/bg, a pair id that is not a number such as ``true``), a pair id seen before (the first
one wins) and a pair whose FG and BG are the same file are set aside with a reason and counted.
A missing preset file is not decided here: ingest quarantines it, export counts it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aivj.ingest.sources import RawPair, SourceError

PACK_MANIFESTS = ("pairs-manifest.v0.json", "manifest.jsonl")
INVALID, DUPLICATE, SAME_FILE = "invalid manifest line", "duplicate pair", "same preset file on both layers"


def set_aside_reason(row: RawPair, seen: set) -> str | None:
    """Why ``row`` is not a usable pair (and records its key in ``seen`` when it counts as read)."""
    key = (row.pack, row.pair)
    if row.error:
        return INVALID
    if key in seen:
        return DUPLICATE
    seen.add(key)
    if row.fg_path is not None and row.fg_path == row.bg_path:
        return SAME_FILE
    return None


@dataclass
class PackRows:
    pack: str
    source: Path
    rows: list[RawPair]  # usable, in file order, one per pair id
    set_aside: list[dict] = field(default_factory=list)  # {"pair", "reason", "detail", "fg", "bg"}

    @property
    def rows_in(self) -> int:
        return len(self.rows) + len(self.set_aside)

    def summary(self) -> str:
        """One line: what was set aside and why (empty when nothing was)."""
        if not self.set_aside:
            return ""
        reasons = Counter(s["reason"] for s in self.set_aside)
        return (
            f"{self.source}: {len(self.set_aside)} of {self.rows_in} rows set aside ("
            + ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items()))
            + ")"
        )


def manifest_of(pack_dir: Path) -> Path:
    pack_dir = Path(pack_dir).resolve()  # "." has a name once resolved; fg/bg resolve to absolute paths
    if not pack_dir.is_dir():
        raise SourceError(f"{pack_dir}: not a pack folder" + ("" if pack_dir.exists() else " (does not exist)"))
    for name in PACK_MANIFESTS:
        if (pack_dir / name).is_file():
            return pack_dir / name
    raise SourceError(f"{pack_dir}: no {' or '.join(PACK_MANIFESTS)}")


def read_pack_rows(pack_dir: Path) -> PackRows:
    """The checked pair list of a pack; SourceError (one line naming the file) when there is none."""
    from aivj.ingest.readers import read_jsonl_manifest, read_runtime

    path = manifest_of(pack_dir)
    rows = read_runtime(path) if path.name == PACK_MANIFESTS[0] else read_jsonl_manifest(path)
    pack = rows[0].pack if rows else Path(pack_dir).name
    out = PackRows(pack, path, [])
    seen: set = set()
    for row in rows:
        reason = set_aside_reason(row, seen)
        if reason:
            out.set_aside.append(
                {"pair": row.pair, "reason": reason, "detail": row.error or "", "fg": row.fg_ref, "bg": row.bg_ref}
            )
        else:
            out.rows.append(row)
    return out
