"""Which audio files a style run reads, with their label and split: a labelled folder, a CSV, or a generated corpus.

- a folder ``<root>/<style>/**/*.wav|ogg|flac|mp3`` (folders not named in ``labels`` are ignored and named);
- a CSV with columns ``file,style`` and optionally ``split`` (files relative to the CSV's folder);
- a generated corpus: its ``manifest.csv`` (aivj/style/generate.py) is such a CSV.

Splits are by track, never by window: a CSV's ``split`` column when it has one, else per style the
files in the order of the sha256 of their relative path (``test_fraction`` to test, ``val_fraction``
to val, the rest to train; a style with fewer than 3 files trains only).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from aivj.style.audio import AUDIO_SUFFIXES
from aivj.style.generate import MANIFEST

SPLITS = ("train", "val", "test")


class TrackListError(ValueError):
    """A folder or CSV that gives no usable track list; one line naming it."""


@dataclass(frozen=True)
class Track:
    path: Path
    label: int
    split: str
    name: str  # relative path: what the split hash and the messages use


def _hash_order(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def assign_splits(names_by_label: dict[int, list[str]], val_fraction: float, test_fraction: float) -> dict[str, str]:
    out = {}
    for names in names_by_label.values():
        ordered = sorted(names, key=_hash_order)
        n = len(ordered)
        n_test = max(1, round(n * test_fraction)) if n >= 3 else 0
        n_val = max(1, round(n * val_fraction)) if n >= 3 else 0
        for i, name in enumerate(ordered):
            out[name] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return out


def _from_csv(path: Path, labels: list[str]) -> tuple[list[tuple[str, int, str | None]], list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"file", "style"} <= set(reader.fieldnames):
            raise TrackListError(f"{path}: a track list needs the columns file,style (has: {', '.join(reader.fieldnames or [])})")
        rows, notes = [], []
        for n, row in enumerate(reader, start=2):
            style, split = (row.get("style") or "").strip(), (row.get("split") or "").strip() or None
            if style not in labels:
                notes.append(f"{path}:{n}: style {style!r} is not a label ({', '.join(labels)})")
            elif split is not None and split not in SPLITS:
                notes.append(f"{path}:{n}: split {split!r} is not one of {', '.join(SPLITS)}")
            else:
                rows.append((row["file"].strip(), labels.index(style), split))
    return rows, notes


def _from_folder(root: Path, labels: list[str]) -> tuple[list[tuple[str, int, None]], list[str]]:
    rows, notes = [], []
    others = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in labels)
    if others:
        notes.append(f"{root}: folders that are not labels, ignored: {', '.join(others)}")
    for label, style in enumerate(labels):
        folder = root / style
        files = (
            sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES) if folder.is_dir() else []
        )
        rows += [(p.relative_to(root).as_posix(), label, None) for p in files]
    return rows, notes


def list_tracks(
    root: str | Path | None,
    csv_path: str | Path | None,
    labels: list[str],
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> tuple[list[Track], list[str]]:
    """(tracks, notes): the notes say what was left out and why, one line each."""
    if csv_path is not None:
        base, source = Path(csv_path).parent, Path(csv_path)
        if not source.is_file():
            raise TrackListError(f"{source}: no such track list (CSV with file,style[,split])")
        rows, notes = _from_csv(source, labels)
    elif root is not None:
        base = source = Path(root)
        if not base.is_dir():
            raise TrackListError(f"{base}: no such folder of labelled audio (<style>/*.wav|ogg|flac|mp3)")
        rows, notes = _from_csv(base / MANIFEST, labels) if (base / MANIFEST).is_file() else _from_folder(base, labels)
    else:
        raise TrackListError("style data: give a folder (data.root) or a CSV (data.csv)")
    missing = {name for name, _, _ in rows if not (base / name).is_file()}
    notes += [f"{base / name}: no such file" for name, _, _ in rows if name in missing]
    rows = [r for r in rows if r[0] not in missing]
    if not rows:
        raise TrackListError(f"{source}: no audio files for the labels {', '.join(labels)}")
    by_label: dict[int, list[str]] = {}
    for name, label, split in rows:
        if split is None:
            by_label.setdefault(label, []).append(name)
    assigned = assign_splits(by_label, val_fraction, test_fraction)
    return [Track(base / name, label, split or assigned[name], name) for name, label, split in rows], notes
