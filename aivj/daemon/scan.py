"""Which packs under the watched roots are new or changed, by content hash, and which are still being written.

A pack is the folder of a manifest ``aivj ingest`` reads (``aivj.ingest.sources.discover``); its digest
is a sha256 over every file in it (relative path + the file's sha256). File hashes are cached by
(size, mtime) in ``file_hashes.json``, so a scan re-reads only changed files, and a file touched but
not changed keeps its pack's digest: the digest, not a timestamp, says whether a pack is new. A file
changed less than ``settle_seconds`` ago (still growing) makes its pack unstable: not ingested yet.
``seen_packs.json`` records the digest of every pack ingested (aivj.ingest's ``_registry.json`` does
the same per preset file inside the dataset folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from aivj.contract.atomic import write_json_atomic
from aivj.ingest.sources import discover


@dataclass
class Pack:
    path: str
    digest: str
    files: int
    unstable: list[str] = field(default_factory=list)  # files still being written


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}  # a cache or a record torn by a crash is rebuilt, never trusted


class FileHashes:
    def __init__(self, path: Path) -> None:
        self.path, self.entries = Path(path), _load(Path(path))

    def sha256(self, file: str, size: int, mtime_ns: int) -> str:
        entry = self.entries.get(file)
        if entry and entry[0] == size and entry[1] == mtime_ns:
            return entry[2]
        h = hashlib.sha256()
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        self.entries[file] = [size, mtime_ns, h.hexdigest()]
        return h.hexdigest()

    def save(self) -> None:
        write_json_atomic(self.entries, self.path)


def _pack_files(pack: Path, others: set[Path]):
    for dirpath, dirnames, filenames in os.walk(pack):
        dirnames[:] = sorted(d for d in dirnames if Path(dirpath, d) not in others)  # a nested pack is its own
        for name in sorted(filenames):
            yield Path(dirpath) / name


def scan(roots: list[Path], hashes: FileHashes, settle_seconds: float, now: float | None = None) -> list[Pack]:
    now = time.time() if now is None else now
    manifests, _ = discover([Path(r) for r in roots]) if roots else ([], [])
    pack_dirs = sorted({m.parent for m in manifests})
    packs = []
    for pack in pack_dirs:
        digest, unstable, n = hashlib.sha256(), [], 0
        for file in _pack_files(pack, set(pack_dirs) - {pack}):
            try:
                st = file.stat()
                sha = hashes.sha256(str(file), st.st_size, st.st_mtime_ns)
            except OSError:  # deleted while scanning: the pack is in motion
                unstable.append(str(file))
                continue
            if now - st.st_mtime < settle_seconds:
                unstable.append(str(file))
            digest.update(f"{file.relative_to(pack).as_posix()}\0{sha}\n".encode())
            n += 1
        packs.append(Pack(str(pack), digest.hexdigest()[:24], n, unstable))
    hashes.save()
    return packs


class SeenPacks:
    """``{pack path: {digest, run}}`` of every pack whose current content was ingested."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.packs: dict[str, dict] = _load(self.path).get("packs", {})

    def is_new(self, pack: Pack) -> bool:
        return self.packs.get(pack.path, {}).get("digest") != pack.digest

    def record(self, packs: list[dict], run_id: str) -> None:
        for p in packs:
            self.packs[p["path"]] = {"digest": p["digest"], "run": run_id}
        write_json_atomic({"version": 1, "packs": self.packs}, self.path)
