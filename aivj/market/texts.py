"""A preset's .milk text by content hash: data/default stores features, not text, so it is looked up.

The folders (conf/market ``preset_folders``) are scanned once; every ``.milk`` file is hashed as the
presets table's ``preset_id`` was (``aivj.milk.hashing.content_hash``). A folder that does not exist
is named in ``missing_folders``; a preset found in none of them is built as a metadata-only template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aivj.milk.hashing import content_hash


@dataclass
class FoundTexts:
    paths: dict[str, Path] = field(default_factory=dict)  # preset id -> one file with that content
    scanned_files: int = 0
    missing_folders: list[str] = field(default_factory=list)


def find_texts(wanted: set[str], folders: list[str | Path], progress: bool = True) -> FoundTexts:
    found = FoundTexts()
    files: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            found.missing_folders.append(str(folder))
            continue
        files += sorted(folder.rglob("*.milk"))
    from rich.progress import track

    for path in track(files, description="hashing .milk files", disable=not progress or not files):
        if len(found.paths) == len(wanted):
            break
        try:
            pid = content_hash(path.read_bytes())
        except OSError:
            continue
        found.scanned_files += 1
        if pid in wanted:
            found.paths.setdefault(pid, path)
    return found
