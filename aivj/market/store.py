"""The market's templates on disk, the ranking, and who may see what.

Layout under the store folder (``$AIVJ_HOME/services/market``):

    library/library.json             the build: dataset, model, feature space, counts
    library/templates/<id>/          one bundle per elite pair: template.json, fg.milk, bg.milk, preview.webp
    uploads/<id>/                    one bundle per accepted upload, same files

``aivj market build`` replaces ``library/`` in one rename and each upload is one rename of its own
(``aivj.contract.atomic.atomic_dir``), so a reader sees a whole bundle or none. The ranking is the
champion's score, one scale for all: an elite template's rank is its place among the elite ones, an
upload's rank the place it would take there (1 + elite templates scoring higher). The free tier sees
the ``free_top`` best elite templates; a premium client (API key) sees every elite template and its
own uploads, and nobody else's.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from aivj.contract.atomic import atomic_dir, write_json_atomic
from aivj.market.similarity import FeatureSpace, TemplateIndex

FORMAT = "aivj-market-template.v1"
LIBRARY_FORMAT = "aivj-market-library.v1"
MILK_FILES = {"fg": "fg.milk", "bg": "bg.milk"}
PREVIEW_FILE = "preview.webp"


def template_id(fg_id: str, bg_id: str) -> str:
    """A pair's identity: its two layers' content hashes in order (FG over BG is not BG over FG)."""
    return hashlib.sha256(f"{fg_id}:{bg_id}".encode()).hexdigest()[:20]


def write_bundle(folder: Path, record: dict, files: dict[str, bytes]) -> None:
    """One bundle's files into ``folder`` (a fresh temp folder the caller renames into place)."""
    for name, data in files.items():
        (folder / name).write_bytes(data)
    write_json_atomic(record, folder / "template.json")


def _read_bundles(folder: Path) -> list[dict]:
    out = []
    if not folder.is_dir():
        return out
    for meta in sorted(folder.glob("[!.]*/template.json")):  # dot folders are unfinished atomic writes
        record = json.loads(meta.read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            raise ValueError(f"{meta}: not a {FORMAT} bundle (format {record.get('format')!r})")
        record["_dir"] = meta.parent
        out.append(record)
    return out


class Store:
    def __init__(self, root: Path, free_top: int = 50, exact_limit: int = 50000, nprobe: int = 32) -> None:
        self.root = Path(root)
        self.free_top, self.exact_limit, self.nprobe = free_top, exact_limit, nprobe
        self.lock = threading.RLock()  # uploads: the duplicate check and the write are one step
        self.reload()

    @property
    def library_dir(self) -> Path:
        return self.root / "library"

    @property
    def uploads_dir(self) -> Path:
        return self.root / "uploads"

    def reload(self) -> None:
        with self.lock:
            lib_file = self.library_dir / "library.json"
            self.library = json.loads(lib_file.read_text(encoding="utf-8")) if lib_file.is_file() else None
            elite = _read_bundles(self.library_dir / "templates")
            elite.sort(key=lambda r: (-r["score"], r["id"]))
            for rank, record in enumerate(elite, 1):
                record["rank"] = rank
            self.elite = elite
            self.elite_scores = np.asarray([r["score"] for r in elite], np.float64)
            by_id = {r["id"]: r for r in elite}
            self.free_ids = {r["id"] for r in elite[: self.free_top]}
            self.space = (
                FeatureSpace.from_dict(self.library["feature_space"])
                if self.library
                else FeatureSpace.fit(np.asarray([r[side]["features"] for r in elite for side in ("fg", "bg")]))
            )
            self.index = TemplateIndex(*self._layers(elite), self.exact_limit, self.nprobe)
            self.free_index = TemplateIndex(*self._layers(elite[: self.free_top]), self.exact_limit, self.nprobe)
            uploads = {}
            for record in _read_bundles(self.uploads_dir):
                record["rank"] = self.rank_of(record["score"])
                uploads[record["id"]] = by_id[record["id"]] = record
            self.uploads: dict[str, dict] = uploads
            self.by_id: dict[str, dict] = by_id

    def _layers(self, records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        fg = np.asarray([r["fg"]["features"] for r in records], np.float32).reshape(-1, 64)
        bg = np.asarray([r["bg"]["features"] for r in records], np.float32).reshape(-1, 64)
        return self.space.z(fg), self.space.z(bg)

    def rank_of(self, score: float) -> int:
        """The place a score takes among the elite templates (ties go after the elite ones)."""
        return 1 + int(np.sum(self.elite_scores >= score))

    def _place(self, record: dict) -> None:
        """Copy on write: request threads iterate ``uploads`` while an upload lands; each sees a whole dict."""
        record["rank"] = self.rank_of(record["score"])
        self.uploads = {**self.uploads, record["id"]: record}
        self.by_id = {**self.by_id, record["id"]: record}

    # Who sees what -----------------------------------------------------------------------------------
    def visible(self, record: dict, client: str | None) -> bool:
        if client is None:
            return record["id"] in self.free_ids
        return record["kind"] == "elite" or record.get("owner") == client

    def get(self, tid: str, client: str | None) -> dict | None:
        record = self.by_id.get(tid)
        return record if record is not None and self.visible(record, client) else None

    def listing(self, client: str | None) -> list[dict]:
        """Visible templates, best first."""
        if client is None:
            return self.elite[: self.free_top]
        own = [r for r in self.uploads.values() if r.get("owner") == client]
        return sorted(self.elite + own, key=lambda r: (-r["score"], r["kind"] != "elite", r["id"]))

    def nearest(self, client: str | None, pair: np.ndarray | None = None, preset: np.ndarray | None = None, k: int = 10,
                exclude: Iterable[str] = ()) -> list[tuple[dict, float]]:  # fmt: skip
        """Visible templates nearest to a pair ([z FG, z BG]) or one preset (z), nearest first."""
        skip = set(exclude)
        index, pool = (self.free_index, self.elite[: self.free_top]) if client is None else (self.index, self.elite)
        want = k + len(skip)
        hits = index.nearest_pair(pair, want) if pair is not None else index.nearest_preset(preset, want)
        found = [(pool[row], d) for row, d in hits]
        if client is not None:  # the client's own uploads: few, so exact
            own = [r for r in self.uploads.values() if r.get("owner") == client]
            if own:
                extra = TemplateIndex(*self._layers(own), self.exact_limit, self.nprobe)
                more = extra.nearest_pair(pair, want) if pair is not None else extra.nearest_preset(preset, want)
                found += [(own[row], d) for row, d in more]
        found = [(r, d) for r, d in found if r["id"] not in skip]
        return sorted(found, key=lambda item: (item[1], item[0]["id"]))[:k]

    # Writes ------------------------------------------------------------------------------------------
    def add_upload(self, record: dict, files: dict[str, bytes]) -> dict:
        """Store an accepted upload in one rename, then place it; the caller holds ``lock``."""
        with atomic_dir(self.uploads_dir / record["id"], durable=True) as tmp:
            write_bundle(tmp, record, files)
        record = {**record, "_dir": self.uploads_dir / record["id"]}
        self._place(record)
        return record


def public(record: dict) -> dict:
    """A record as the API shows it (no paths, no feature vectors)."""
    out = {k: v for k, v in record.items() if not k.startswith("_")}
    out["fg"] = {k: v for k, v in record["fg"].items() if k != "features"}
    out["bg"] = {k: v for k, v in record["bg"].items() if k != "features"}
    return out
