"""A coupled pack's pairs for the refinery: ``aivj.ingest.packs``, the one manifest reader, plus the
generator's ``warp_diff`` / ``cx_diff`` columns. Rows set aside there are not returned here."""

from __future__ import annotations

from pathlib import Path

from aivj.ingest.packs import PackRows, read_pack_rows


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def manifest_rows(read: PackRows) -> list[dict]:
    """(pair, fg, bg, warp_diff, cx_diff) per usable row; fg/bg are None when the file is not in the pack."""
    return [
        {
            "pair": r.pair,
            "fg": r.fg_path,
            "bg": r.bg_path,
            "fg_ref": r.fg_ref,
            "bg_ref": r.bg_ref,
            "warp_diff": _number((r.item or {}).get("warp_diff")),
            "cx_diff": _number((r.item or {}).get("cx_diff")),
        }
        for r in read.rows
    ]


def read_manifest(pack_dir: Path) -> list[dict]:
    return manifest_rows(read_pack_rows(Path(pack_dir)))
