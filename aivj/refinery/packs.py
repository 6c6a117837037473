"""Read a coupled pack's manifest.jsonl (both known generator formats) into (pair, fg path, bg path)."""

from __future__ import annotations

import json
from pathlib import Path


def _resolve(pack_dir: Path, raw: str, layer: str) -> Path:
    # Absolute paths come from the machine that wrote the pack (WSL or Windows): keep the tail.
    tail = raw.replace("\\", "/").rsplit("/", 1)[-1]
    for cand in (pack_dir / raw, pack_dir / layer / tail):
        if cand.exists():
            return cand
    return pack_dir / layer / tail


def read_manifest(pack_dir: Path) -> list[dict]:
    pack_dir = Path(pack_dir)
    path = pack_dir / "manifest.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path}: a pack needs manifest.jsonl")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            pair = int(rec["pair"] if "pair" in rec else rec["pair_id"])
            fg, bg = _resolve(pack_dir, rec["fg"], "fg"), _resolve(pack_dir, rec["bg"], "bg")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: bad manifest line ({exc})") from None
        out.append({"pair": pair, "fg": fg, "bg": bg, "warp_diff": rec.get("warp_diff"), "cx_diff": rec.get("cx_diff")})
    return out
