"""Parse + feature-extract many ``.milk`` files, in a process pool with a progress bar.

Each file gives a ``PresetRecord`` (content hash, features, style tags) or the reason it failed;
one bad file never stops a folder.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivj.milk.features import extract_features
from aivj.milk.hashing import content_hash
from aivj.milk.pairs import style_tags
from aivj.milk.parser import MilkParseError, parse_milk

POOL_MIN_FILES = 2000  # below this a pool costs more to start than it saves


@dataclass
class PresetRecord:
    path: str
    preset_id: str | None = None
    features: np.ndarray | None = None
    style_tags: tuple[str, ...] = ()
    error: str | None = None  # set when the file is missing, unreadable or not a preset


def load_preset_file(path: str | os.PathLike) -> PresetRecord:
    path = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return PresetRecord(path, error=f"unreadable: {exc.strerror or exc}")
    try:
        preset = parse_milk(data, path)
        return PresetRecord(path, content_hash(data), extract_features(preset), tuple(style_tags(preset)))
    except MilkParseError as exc:
        return PresetRecord(path, content_hash(data), error=str(exc))


def _load_chunk(paths: list[str]) -> list[PresetRecord]:
    return [load_preset_file(p) for p in paths]


def load_preset_files(paths: list[str | os.PathLike], workers: int | None = None, progress: bool = True,
                      description: str = "parsing presets") -> list[PresetRecord]:  # fmt: skip
    """Records in the order of ``paths``; ``workers`` defaults to the CPU count (1 = in-process)."""
    paths = [str(p) for p in paths]
    workers = workers or os.cpu_count() or 1
    chunk = 256
    chunks = [paths[i : i + chunk] for i in range(0, len(paths), chunk)]
    out: list[PresetRecord] = []
    with _progress(progress, description, len(paths)) as advance:
        if workers == 1 or len(paths) < POOL_MIN_FILES:
            for part in chunks:
                out.extend(_load_chunk(part))
                advance(len(part))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for part in pool.map(_load_chunk, chunks):
                    out.extend(part)
                    advance(len(part))
    return out


def milk_files(folder: str | os.PathLike) -> list[Path]:
    """All ``.milk`` files under ``folder`` (any case of the extension), sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() == ".milk" and p.is_file())


class _progress:
    """A rich progress bar when enabled, a no-op otherwise; yields ``advance(n)``."""

    def __init__(self, enabled: bool, description: str, total: int) -> None:
        self.enabled, self.description, self.total = enabled, description, total

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        )
        self.bar.__enter__()
        task = self.bar.add_task(self.description, total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.__exit__(*exc)
