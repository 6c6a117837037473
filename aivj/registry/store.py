"""The registry folder: versions, index files, and the champion pointers (no server, no torch import).

Where (docs/registry.md): runs register into ``$AIVJ_REGISTRY``, else ``$AIVJ_HOME/registry``, else
``<project>/var/registry`` (gitignored). The tracked ``models/`` folder (``$AIVJ_SHIPPED_DIR``) holds
the shipped champion: read-only to runs, searched after the writable folder, written only by
``aivj registry ship``.

    var/registry/
      champion                 one line: the default champion (replaced atomically, fsync'd)
      champions/<fingerprint>  one line: the champion among versions trained on that data fingerprint
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
import io
import json
import os
import shutil
import time
from pathlib import Path

from aivj.contract.atomic import atomic_dir, write_text_atomic
from aivj.registry import succession
from aivj.registry.files import (  # noqa: F401  (re-exported: callers import these from store)
    CHAMPIONS,
    HISTORY,
    POINTER,
    VERSION_RE,
    RegistryError,
    default_registry_dir,
    fingerprint_of,
    project_root,
    read_json,
    read_pointer,
    safe_name,
    sha256_file,
    shipped_dir,
    state_root,
)

INDEX, TABLE, LOCK = "registry.json", "versions.csv", ".lock"
_SHIPPED = object()
CSV_COLUMNS = [
    "version",
    "created",
    "champion",
    "val_metric",
    "golden_pass_rate",
    "data_hash",
    "data_fingerprint",
    "code_version",
    "run_dir",
]


class Registry:
    """``root``: the writable folder; ``shipped``: the read-only folder searched after it (None: none)."""

    def __init__(self, root: str | os.PathLike | None = None, shipped=_SHIPPED) -> None:
        self.root = Path(root) if root else default_registry_dir()
        shipped = shipped_dir() if shipped is _SHIPPED else shipped
        self.shipped = Path(shipped) if shipped else None
        if self.shipped is not None and self.root.resolve() == self.shipped.resolve():
            self.shipped = None  # reading the shipped folder itself (aivj registry --dir models)

    def check_root(self, must_exist: bool = True) -> None:
        """A --dir that is a file, or (for reading) missing, is an error rather than an empty registry."""
        if self.root.exists() and not self.root.is_dir():
            raise RegistryError(f"{self.root}: not a folder (a registry is a folder of versions)")
        if must_exist and not self.root.is_dir():
            raise RegistryError(f"{self.root}: no such registry folder")

    def is_shipped_folder(self) -> bool:
        ship = shipped_dir()
        return ship is not None and self.root.resolve() == ship.resolve()

    # ----- reading -------------------------------------------------------------------------
    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and VERSION_RE.match(p.name))

    def shipped_versions(self) -> list[str]:
        return Registry(self.shipped, shipped=None).versions() if self.shipped else []

    def path(self, version: str) -> Path:
        if VERSION_RE.match(str(version)):
            for base in (self.root, self.shipped):
                if base is not None and (base / version).is_dir():
                    return base / version
        have = sorted(set(self.versions()) | set(self.shipped_versions()))
        raise RegistryError(f"{self.root}: no version {version!r} (have: {', '.join(have) or 'none'})")

    def meta(self, version: str) -> dict:
        return read_json(self.path(version) / "meta.json", "version metadata")

    def metrics(self, version: str) -> dict:
        return read_json(self.path(version) / "metrics.json", "metrics")

    def fingerprint(self, version: str) -> str:
        return fingerprint_of(self.meta(version))

    def checkpoint(self, version: str) -> Path:
        return self.path(version) / "model.ckpt"

    def reference_histogram(self, version: str) -> dict | None:
        path = self.path(version) / "reference_hist.json"
        return read_json(path, "reference histogram") if path.exists() else None

    def champion(self) -> str | None:
        """The writable folder's default champion (None when it has none)."""
        return read_pointer(self.root / POINTER, self.root)

    def pointer_text(self) -> str | None:
        """What the default pointer file says, valid or not (None: no file); the compare-and-set compares this."""
        path = self.root / POINTER
        try:
            return path.read_bytes().decode("utf-8", errors="replace").strip()
        except FileNotFoundError:
            return None

    def shipped_champion(self) -> str | None:
        return read_pointer(self.shipped / POINTER, self.shipped) if self.shipped else None

    def default_champion(self) -> str | None:
        """What export uses without --model: the writable champion, else the shipped one."""
        return self.champion() or self.shipped_champion()

    def fingerprint_champions(self) -> dict[str, str]:
        """{fingerprint: version} of every readable per-fingerprint pointer."""
        folder, out = self.root / CHAMPIONS, {}
        for pointer in sorted(folder.iterdir()) if folder.is_dir() else []:
            with contextlib.suppress(RegistryError):
                version = read_pointer(pointer, self.root)
                if version:
                    out[pointer.name] = version
        return out

    def champion_for(self, fingerprint: str) -> str | None:
        """The champion a candidate trained on ``fingerprint`` is compared with (None: it competes with nobody)."""
        version = read_pointer(self.root / CHAMPIONS / fingerprint, self.root) if safe_name(fingerprint) else None
        if version:
            return version
        for candidate in (self.champion(), self.shipped_champion()):
            if candidate and self.fingerprint(candidate) == fingerprint:
                return candidate
        return None

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
        self.refuse_shipped()
        self.check_root(must_exist=False)
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
            with atomic_dir(self.root / version, durable=True) as tmp:
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
            self.rebuild_index()
        return version

    def refuse_shipped(self) -> None:
        if self.is_shipped_folder():
            raise RegistryError(
                f"{self.root}: the shipped-champion folder is read-only to runs; register into "
                f"$AIVJ_HOME/registry and use `aivj registry ship VERSION` (docs/registry.md)"
            )

    def set_champion(self, version: str, reason: str, default: bool = True, expected=succession.ANY) -> None:
        """Point this version's fingerprint at it, and (``default``) the default pointer too.

        ``expected``: what the caller read from the default pointer (``pointer_text()``; None: no
        champion); a RegistryError, and nothing changed, when it says something else by now.
        """
        succession.set_champion(self, version, reason, default, expected)

    def clear_champion(self, reason: str, expected=succession.ANY) -> str | None:
        """No default champion any more (and no fingerprint champion naming it); a history row says why."""
        return succession.clear_champion(self, reason, expected)

    def previous_good(self, avoid_rolled_away_by: str | None = None) -> str:
        """The rollback target: the newest earlier sound champion (docs in aivj/registry/succession.py)."""
        return succession.previous_good(self, avoid_rolled_away_by)

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
            rows.append(
                {
                    "version": version,
                    "created": meta.get("created"),
                    "champion": version == champion,
                    "val_metric": meta.get("val_metric"),
                    "golden_pass_rate": meta.get("golden_pass_rate"),
                    "data_hash": meta.get("data_hash"),
                    "data_fingerprint": fingerprint_of(meta),
                    "code_version": meta.get("code_version"),
                    "run_dir": meta.get("run_dir"),
                }
            )
        index = {"format": "aivj-registry.v1", "champion": champion, "versions": rows}
        write_text_atomic(self.root / INDEX, json.dumps(index, indent=2, sort_keys=True) + "\n", durable=True)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(self.root / TABLE, buf.getvalue(), durable=True)

    # ----- checking ------------------------------------------------------------------------
    def verify(self, version: str | None = None) -> list[str]:
        """Problems found (empty when every file matches its recorded sha256 and the pointer is valid)."""
        problems = []
        for pointer in (self.champion, self.shipped_champion):
            try:
                pointer()
            except RegistryError as exc:
                problems.append(str(exc))
        shipped = [v for v in self.shipped_versions() if v not in self.versions()]
        for v in [version] if version else self.versions() + shipped:
            problems += succession.file_problems(self, v)
        return problems
