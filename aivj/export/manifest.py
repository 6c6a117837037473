"""A pack's pair list, from ``manifest.jsonl`` (generator) or ``pairs-manifest.v0.json`` (web app).

Paths in manifests were written on other machines (``/mnt/d/aidata/...``, ``D:\\aidata\\...``,
``/presets/<pack>/fg/x.milk``): each is resolved against the pack folder by its tail (``fg/<file>``),
then by its file name under ``fg/`` or ``bg/``, and only then as written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath


@dataclass
class PackPairs:
    pack: str
    source: Path
    pairs: list[tuple[int, str, str]]  # (pair id, fg path as written, bg path as written)


def read_pack(pack_dir: Path) -> PackPairs:
    pack_dir = Path(pack_dir)
    web = pack_dir / "pairs-manifest.v0.json"
    jsonl = pack_dir / "manifest.jsonl"
    if web.exists():
        try:
            doc = json.loads(web.read_text(encoding="utf-8"))
            pairs = [(int(p["pair"]), str(p["fgUrl"]), str(p["bgUrl"])) for p in doc["pairs"]]
            return PackPairs(str(doc["pack"]), web, pairs)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{web}: not a pairs-manifest.v0 file ({type(exc).__name__}: {exc})") from exc
    if jsonl.exists():
        pairs = []
        for n, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                pid = row["pair"] if "pair" in row else row["pair_id"]
                pairs.append((int(pid), str(row["fg"]), str(row["bg"])))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{jsonl}:{n}: not a manifest line with pair/pair_id, fg, bg ({exc})") from exc
        return PackPairs(pack_dir.name, jsonl, pairs)
    raise ValueError(f"{pack_dir}: no pairs-manifest.v0.json or manifest.jsonl")


def resolve(pack_dir: Path, written: str, side: str) -> Path | None:
    """The local file for a manifest path, or None when it is not there."""
    pack_dir = Path(pack_dir)
    parts = PureWindowsPath(written.replace("/", "\\")).parts  # splits both separators
    candidates = []
    if len(parts) >= 2:
        candidates.append(pack_dir / parts[-2] / parts[-1])
    if parts:
        candidates += [pack_dir / side / parts[-1], pack_dir / parts[-1]]
    candidates.append(Path(written))
    return next((c for c in candidates if c.is_file()), None)
