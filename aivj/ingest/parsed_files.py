"""Which preset files were already parsed (``DIR/_registry.json``; not the model registry, aivj/registry).

A file whose size and mtime are unchanged keeps its content hash (and its parse error, if any),
so a re-run or a grown input parses only new or changed files; their features come from the
existing ``presets.parquet``. A change of ``FEATURE_VERSION`` empties the registry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aivj.contract.atomic import write_json_atomic

REGISTRY_NAME = "_registry.json"


class ParsedFiles:
    def __init__(self, out_dir: Path, feature_version: int) -> None:
        self.path = Path(out_dir) / REGISTRY_NAME
        self.feature_version = feature_version
        self.files: dict[str, dict] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                data = {}
            if data.get("feature_version") == feature_version:
                self.files = data.get("files", {})

    @staticmethod
    def _stat(path: str) -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def lookup(self, path: str) -> dict | None:
        """The stored entry when the file is unchanged since it was recorded."""
        entry = self.files.get(path)
        if entry is None or self._stat(path) != (entry["size"], entry["mtime_ns"]):
            return None
        return entry

    def record(self, path: str, preset_id: str | None, error: str | None) -> None:
        stat = self._stat(path)
        if stat is not None:
            self.files[path] = {"size": stat[0], "mtime_ns": stat[1], "preset_id": preset_id, "error": error}

    def save(self) -> None:
        write_json_atomic({"version": 1, "feature_version": self.feature_version, "files": self.files}, self.path)
