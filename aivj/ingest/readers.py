"""Readers for the three manifest layouts; each returns ``RawPair`` rows in file order."""

from __future__ import annotations

import json
import math
from pathlib import Path

from aivj.ingest.sources import (
    RawPair,
    SourceError,
    load_json,
    pair_number,
    resolve_preset,
)

_FG_KEYS = ("fg", "fgPath", "fg_path", "fgUrl", "fg_url")
_BG_KEYS = ("bg", "bgPath", "bg_path", "bgUrl", "bg_url")


def _first(item: dict, keys: tuple[str, ...]):
    for key in keys:
        if item.get(key) not in (None, ""):
            return item[key]
    return None


def as_float(value) -> float | None:
    """None when absent; NaN for values present but not a finite number (quarantined later)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _row(item, index: int, path: Path, layout: str, pack: str) -> RawPair:
    pack_dir = path.parent
    if not isinstance(item, dict):
        return RawPair(str(path), layout, pack, index, "", "", None, None, error="pair entry is not an object")
    raw_pair = item.get("pair", item.get("pair_id", item.get("id")))
    pair = pair_number(raw_pair, index)
    fg, bg = _first(item, _FG_KEYS), _first(item, _BG_KEYS)
    fg, bg = (str(v) if isinstance(v, (str, int, float)) else None for v in (fg, bg))
    row = RawPair(str(path), layout, pack, pair, fg or "", bg or "",
                  resolve_preset(fg, pack_dir, "fg") if fg else None, resolve_preset(bg, pack_dir, "bg") if bg else None,
                  item=item)  # fmt: skip
    if fg is None or bg is None:
        row.error = "pair entry has no fg/bg path"
    if isinstance(raw_pair, (bool, list, dict)):  # json true would otherwise become the line index
        row.error = f"pair id {json.dumps(raw_pair)} is not a number or a name"
    elif not -(2**63) <= pair < 2**63:  # the pairs table stores int64
        row.error = f"pair id {raw_pair} is out of range"
    score, quality = as_float(item.get("score")), as_float(item.get("quality01", item.get("quality")))
    if score is not None:
        row.score = score
        row.quality01 = quality if quality is not None else score / 5.0
    elif quality is not None:
        row.score, row.quality01 = quality * 5.0, quality
    rank = item.get("rank")
    if isinstance(rank, (int, float)) and not isinstance(rank, bool) and math.isfinite(rank) and rank >= 1:
        row.rank = int(rank)
    return row


def read_jsonl_manifest(path: Path) -> list[RawPair]:
    """Coupled pack (``pair``/``pair_id``, fg/bg) or deep_alchemy (same plus ``quality``)."""
    pack, rows = path.parent.name, []
    try:
        # JSON Lines end at "\n" only: text mode and splitlines() would also cut at a lone \r, \x85 or U+2028
        lines = [line.removesuffix("\r") for line in path.read_bytes().decode("utf-8-sig", errors="replace").split("\n")]
    except OSError as exc:
        raise SourceError(f"{path}: unreadable ({exc.strerror})") from exc
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(
                RawPair(str(path), "coupled", pack, index, "", "", None, None, error=f"line {index + 1}: bad JSON ({exc.msg})")
            )
            continue
        layout = "alchemy" if isinstance(item, dict) and "quality" in item else "coupled"
        rows.append(_row(item, index, path, layout, pack))
    return rows


def read_runtime(path: Path) -> list[RawPair]:
    """``pairs-manifest.v0.json`` of the web app's runtime pack."""
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        raise SourceError(f"{path}: expected an object with a 'pairs' list")
    pack = str(data.get("pack") or path.parent.name)
    return [_row(item, i, path, "runtime", pack) for i, item in enumerate(data["pairs"])]


def read_elite(path: Path) -> list[RawPair]:
    """The golden set: a list or ``{"pairs": [...]}``; every row is elite, scores are 0-5."""
    data = load_json(path)
    items = data.get("pairs") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected a list of pairs or an object with a 'pairs' list")
    pack = str(data.get("pack") or path.parent.name) if isinstance(data, dict) else path.parent.name
    rows = [_row(item, i, path, "elite", pack) for i, item in enumerate(items)]
    for row in rows:
        row.is_elite = True
    return rows


def read_manifest(path: Path) -> list[RawPair]:
    """The rows of any of the three layouts, chosen by the file's name."""
    if path.name == "manifest.jsonl":
        return read_jsonl_manifest(path)
    if path.name == "pairs-manifest.v0.json":
        return read_runtime(path)
    return read_elite(path)
