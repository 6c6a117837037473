"""The frame cache: one compressed .npz of stored frames per preset content hash, plus a status log.

Layout under ``root/<settings tag>/``: ``frames/<id[:2]>/<id>.npz`` (``frames`` uint8 [T, S, S, 3]),
``status.jsonl`` (one JSON line per attempt; the last line for an id wins) and ``workers/*.log``
(projectM's own stderr, e.g. shader compile errors). Re-runs skip every id that has a status.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from aivj.contract.atomic import atomic_path
from aivj.home import state_dir
from aivj.refinery.settings import RenderSettings


def default_root() -> Path:
    """``$AIVJ_HOME/cache/refinery``: renders are generated state, kept out of the source tree."""
    return state_dir("cache") / "refinery"


OK = "ok"
FAILED_STATUSES = ("black", "crash", "timeout", "load_error", "error")


class FrameCache:
    def __init__(self, settings: RenderSettings, root: Path | None = None):
        self.settings = settings
        self.dir = Path(root or default_root()) / settings.tag()
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "settings.json").write_text(settings.to_json() + "\n")
        self.status_path = self.dir / "status.jsonl"

    @classmethod
    def reader(cls, settings: RenderSettings, root: Path | None = None) -> FrameCache | None:
        """The cache of ``settings`` for reading only (no folder or settings.json written); None if absent.

        Reports and the market read frames; opening the cache normally would write into it."""
        folder = Path(root or default_root()) / settings.tag()
        if not folder.is_dir():
            return None
        cache = cls.__new__(cls)
        cache.settings, cache.dir, cache.status_path = settings, folder, folder / "status.jsonl"
        return cache

    def frames_path(self, preset_id: str) -> Path:
        return self.dir / "frames" / preset_id[:2] / f"{preset_id}.npz"

    def save_frames(self, preset_id: str, frames: np.ndarray) -> None:
        path = self.frames_path(preset_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, frames=frames)

    def load_frames(self, preset_id: str) -> np.ndarray:
        with np.load(self.frames_path(preset_id)) as z:
            return z["frames"]

    def statuses(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        if self.status_path.exists():
            for line in self.status_path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    out[rec["id"]] = rec
        return out

    def record(self, rec: dict) -> None:
        # Appends of one short line are atomic enough for a log; only the parent process writes.
        with open(self.status_path, "a") as fh:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")

    def ok_ids(self) -> list[str]:
        return sorted(k for k, v in self.statuses().items() if v["status"] == OK and self.frames_path(k).exists())
