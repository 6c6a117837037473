"""Find the aidata layouts under an input path and read their pair lists (no .milk parsing here).

Layouts (../shared/docs/aidata-formats.md):
  coupled     ``<pack>/manifest.jsonl`` with ``pair``/``pair_id`` + ``fg``/``bg`` paths (absolute WSL or
              Windows paths are resolved by their tail inside the pack, relative ones against it)
  alchemy     the same file with a ``quality`` (0-1) per line (deep_alchemy)
  runtime     ``pairs-manifest.v0.json`` (``pack``, ``pairs`` with ``fgUrl``/``bgUrl``)
  elite       ``AIVJ_FINAL_ELITE_MANIFEST.json``: a list or ``{"pairs": [...]}`` with ``fg``/``bg``,
              ``score`` 0-5 and optional ``rank``
Label files (``eval.jsonl``, ``pair_summary_v2.csv``) are found here and read by ``labels``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAMES = {"manifest.jsonl": "coupled", "pairs-manifest.v0.json": "runtime"}
LABEL_NAMES = ("eval.jsonl", "pair_summary_v2.csv")
_SKIP_DIRS = {"fg", "bg", ".git", "__pycache__"}


class SourceError(ValueError):
    """A manifest that cannot be read at all; the message names the file."""


@dataclass
class RawPair:
    source_file: str
    layout: str  # coupled | alchemy | runtime | elite
    pack: str
    pair: int
    fg_ref: str  # the path as written in the manifest
    bg_ref: str
    fg_path: Path | None  # resolved inside the pack; None when not found
    bg_path: Path | None
    score: float | None = None  # 0-5 when the manifest carries a label
    quality01: float | None = None
    rank: int | None = None
    is_elite: bool = False
    error: str | None = None  # a row that could not be read (bad JSON line, no fg/bg, pair id not a number)
    item: dict | None = None  # the manifest entry as read (generator extras such as warp_diff)


def is_elite_manifest(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".json") and "elite" in name and "manifest" in name


def discover(inputs: list[Path]) -> tuple[list[Path], list[Path]]:
    """(manifests, label files) under the inputs, sorted so every run reads them in one order."""
    manifests, labels = set(), set()
    for root in inputs:
        root = Path(root)
        if not root.exists():
            raise SourceError(f"{root}: input does not exist")
        # a manifest given directly still gets the label files beside it
        files = [root, *(root.parent / n for n in LABEL_NAMES if (root.parent / n).is_file())] if root.is_file() else _walk(root)
        for f in files:
            if f.name in MANIFEST_NAMES or is_elite_manifest(f):
                manifests.add(f.resolve())
            elif f.name in LABEL_NAMES:
                labels.add(f.resolve())
    return sorted(manifests), sorted(labels)


def _walk(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in filenames:
            yield Path(dirpath) / name


def resolve_preset(ref: str, pack_dir: Path, side: str = "fg") -> Path | None:
    """A manifest path inside ``pack_dir``: relative as is, absolute (WSL/Windows/URL) by its tail.

    Tails tried in order: ``fg/<file>`` (the last two parts), then ``<file>`` in ``side`` (fg/ or bg/),
    the other one and the pack itself. Candidates are tried lazily with os.path (this runs twice per pair).
    """
    if not isinstance(ref, str) or not ref.strip():
        return None
    norm = ref.strip().replace("\\", "/")
    parts = [p for p in norm.split("/") if p and p != "."]
    if not parts:
        return None
    base = str(pack_dir)
    for candidate in _candidates(base, norm, parts, ("bg", "fg") if side == "bg" else ("fg", "bg")):
        if os.path.isfile(candidate):
            return Path(candidate)
    return None


def _candidates(base: str, norm: str, parts: list[str], sides: tuple[str, str]):
    if not norm.startswith("/") and ":" not in parts[0]:
        yield os.path.join(base, *parts)
    if len(parts) >= 2:
        yield os.path.join(base, parts[-2], parts[-1])
    for sub in (*sides, ""):
        yield os.path.join(base, sub, parts[-1]) if sub else os.path.join(base, parts[-1])


def pair_number(value, fallback: int) -> int:
    """Pair ids are ints; a string id gets a stable 48-bit number so re-runs agree."""
    if isinstance(value, bool) or value is None:
        return fallback
    try:
        number = float(value)
        if math.isfinite(number) and number == int(number):
            return int(number)
    except (TypeError, ValueError):
        pass
    return int(hashlib.sha256(str(value).encode()).hexdigest()[:12], 16)


def load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path}: not readable JSON ({exc})") from exc
