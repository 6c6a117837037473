"""The registry folder: versions, index files, and the champion pointer (no server, no torch import).

    models/
      champion                 one line: the champion's version (replaced atomically, fsync'd)
      champion_history.jsonl   one line per champion change (rollback reads it)
      registry.json            index of all versions (rebuilt from the folders; derived data)
      versions.csv             the same as a table
      v{unix_ts}_{hash4}/      model.ckpt, config.yaml, metrics.json, reference_hist.json, meta.json
                               (meta.json: data hash, code version, sha256 of every file)

A version folder is built under a temporary name and renamed into place, so it is complete or
absent. A kill -9 at any moment of ``set_champion`` leaves the old or the new pointer.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

VERSION_RE = re.compile(r"^v\d+_[0-9a-f]{4}$")
POINTER, HISTORY, INDEX, TABLE, LOCK = "champion", "champion_history.jsonl", "registry.json", "versions.csv", ".lock"
CSV_COLUMNS = ["version", "created", "champion", "val_metric", "golden_pass_rate", "data_hash", "code_version", "run_dir"]


class RegistryError(RuntimeError):
    pass


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def default_registry_dir() -> Path:
    env = os.environ.get("AIVJ_REGISTRY")
    return Path(env) if env else project_root() / "models"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class Registry:
    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root else default_registry_dir()

    # ----- reading -------------------------------------------------------------------------
    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and VERSION_RE.match(p.name))

    def path(self, version: str) -> Path:
        folder = self.root / version
        if not VERSION_RE.match(version) or not folder.is_dir():
            raise RegistryError(f"{self.root}: no version {version!r} (have: {', '.join(self.versions()) or 'none'})")
        return folder

    def meta(self, version: str) -> dict:
        path = self.path(version) / "meta.json"
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RegistryError(f"{path}: unreadable version metadata ({exc})") from exc

    def metrics(self, version: str) -> dict:
        return json.loads((self.path(version) / "metrics.json").read_text())

    def checkpoint(self, version: str) -> Path:
        return self.path(version) / "model.ckpt"

    def reference_histogram(self, version: str) -> dict | None:
        path = self.path(version) / "reference_hist.json"
        return json.loads(path.read_text()) if path.exists() else None

    def champion(self) -> str | None:
        pointer = self.root / POINTER
        if not pointer.exists():
            return None
        version = pointer.read_text().strip()
        if not VERSION_RE.match(version) or not (self.root / version).is_dir():
            raise RegistryError(f"{pointer}: points to {version!r}, which is not a version in {self.root}")
        return version

    def history(self) -> list[dict]:
        path = self.root / HISTORY
        if not path.exists():
            return []
        rows = []
        for line in path.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a torn last line after a crash
                rows.append(json.loads(line))
        return rows

    # ----- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def add_version(self, ckpt_path: Path, files: dict[str, str], meta: dict, copies: dict[str, Path] | None = None) -> str:
        """Copy the checkpoint (and ``copies``: name -> file or folder), write the text ``files``.

        Returns the new version name; meta.json records the sha256 of everything inside.
        """
        ckpt_path = Path(ckpt_path)
        if not ckpt_path.is_file():
            raise RegistryError(f"{ckpt_path}: checkpoint not found")
        self.root.mkdir(parents=True, exist_ok=True)
        ckpt_hash = sha256_file(ckpt_path)
        with self.lock():
            ts = int(time.time())
            version = f"v{ts}_{ckpt_hash[:4]}"
            while (self.root / version).exists():  # same checkpoint in the same second
                ts += 1
                version = f"v{ts}_{ckpt_hash[:4]}"
            tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.root))
            try:
                shutil.copyfile(ckpt_path, tmp / "model.ckpt")
                for name, text in files.items():
                    (tmp / name).write_text(text, encoding="utf-8")
                for name, src in (copies or {}).items():
                    (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                    if Path(src).is_dir():
                        shutil.copytree(src, tmp / name)
                    else:
                        shutil.copyfile(src, tmp / name)
                hashes = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
                full = {**meta, "version": version, "created": ts, "files": hashes}
                (tmp / "meta.json").write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
                os.replace(tmp, self.root / version)
                _fsync_dir(self.root)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            self.rebuild_index()
        return version

    def set_champion(self, version: str, reason: str) -> None:
        self.path(version)  # must exist
        with self.lock():
            previous = None
            with contextlib.suppress(RegistryError):
                previous = self.champion()
            write_text_atomic(self.root / POINTER, version + "\n")
            with open(self.root / HISTORY, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"time": round(time.time(), 3), "champion": version, "previous": previous,
                                     "reason": reason}) + "\n")
            self.rebuild_index()

    def remove(self, version: str) -> None:
        folder = self.path(version)
        trash = self.root / f".trash-{version}-{os.getpid()}"
        os.replace(folder, trash)  # gone from the registry in one step
        shutil.rmtree(trash, ignore_errors=True)

    def rebuild_index(self) -> None:
        try:
            champion = self.champion()
        except RegistryError:
            champion = None
        rows = []
        for version in self.versions():
            try:
                meta = self.meta(version)
            except RegistryError:
                continue
            rows.append({"version": version, "created": meta.get("created"), "champion": version == champion,
                         "val_metric": meta.get("val_metric"), "golden_pass_rate": meta.get("golden_pass_rate"),
                         "data_hash": meta.get("data_hash"), "code_version": meta.get("code_version"),
                         "run_dir": meta.get("run_dir")})
        index = {"format": "aivj-registry.v1", "champion": champion, "versions": rows}
        write_text_atomic(self.root / INDEX, json.dumps(index, indent=2, sort_keys=True) + "\n")
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(self.root / TABLE, buf.getvalue())

    # ----- checking ------------------------------------------------------------------------
    def verify(self, version: str | None = None) -> list[str]:
        """Problems found (empty when every file matches its recorded sha256 and the pointer is valid)."""
        problems = []
        try:
            self.champion()
        except RegistryError as exc:
            problems.append(str(exc))
        for v in [version] if version else self.versions():
            try:
                recorded = self.meta(v).get("files", {})
            except RegistryError as exc:
                problems.append(str(exc))
                continue
            for name, digest in recorded.items():
                path = self.root / v / name
                if not path.exists():
                    problems.append(f"{path}: missing")
                elif sha256_file(path) != digest:
                    problems.append(f"{path}: sha256 differs from meta.json")
        return problems
