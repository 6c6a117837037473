"""Where the registry lives, and the small file helpers it reads and writes with (no torch import).

The roots come from ``aivj.home`` (the one place they are found). ``default_registry_dir()``:
$AIVJ_REGISTRY, else ``state_dir("registry")``. ``shipped_dir()``: $AIVJ_SHIPPED_DIR, else the tracked
``models/`` folder that holds the shipped champion. Garbage in a pointer or a JSON file is a
one-line ``RegistryError`` naming the file, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from aivj.home import project_root, state_dir, state_root  # noqa: F401  (re-exported for the registry's callers)

VERSION_RE = re.compile(r"^v\d+_[0-9a-f]{4}$")
POINTER, HISTORY, CHAMPIONS = "champion", "champion_history.jsonl", "champions"  # champions/<fingerprint>: one pointer each


class RegistryError(RuntimeError):
    pass


def default_registry_dir() -> Path:
    env = os.environ.get("AIVJ_REGISTRY")
    return Path(env) if env else state_dir("registry")


def shipped_dir() -> Path | None:
    """The tracked folder with the shipped champion ($AIVJ_SHIPPED_DIR; empty string = none)."""
    env = os.environ.get("AIVJ_SHIPPED_DIR")
    if env is not None:
        return Path(env) if env.strip() else None
    return project_root() / "models"


def read_pointer(pointer: Path, root: Path) -> str | None:
    """The version a pointer file names (None when absent); one-line RegistryError when it is garbage."""
    if not pointer.exists():
        return None
    try:
        version = pointer.read_bytes().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(
            f"{pointer}: unreadable champion pointer ({type(exc).__name__}); "
            f"repair with `aivj registry promote VERSION --force` or delete the file"
        ) from None
    if not VERSION_RE.match(version) or not (root / version).is_dir():
        shown = version if len(version) <= 40 and version.isprintable() else version[:40].encode("unicode_escape").decode()
        raise RegistryError(f"{pointer}: points to {shown!r}, which is not a version in {root}")
    return version


def read_json(path: Path, what: str) -> dict:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: missing {what}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{path}: unreadable {what} ({type(exc).__name__}: {exc})") from None
    if not isinstance(doc, dict):
        raise RegistryError(f"{path}: {what} is not a JSON object")
    return doc


def fingerprint_of(meta: dict) -> str:
    """The data fingerprint a version was trained on (older versions: their data_hash)."""
    return str(meta.get("data_fingerprint") or meta.get("data_hash") or "unknown")


def safe_name(fingerprint: str) -> bool:
    """A fingerprint usable as a file name under ``champions/``."""
    return bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", fingerprint or "")) and fingerprint not in (".", "..")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
