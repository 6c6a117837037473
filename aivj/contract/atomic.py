"""Writes that matter are atomic: a reader sees the old file or the new one, never half of one.

``atomic_path(path)`` yields a unique temp name beside ``path`` (same filesystem) and renames it into
place with ``os.replace`` when the block ends without an error; on an error the temp file is removed
and ``path`` is untouched. Every writer of the project goes through it or through ``atomic_dir``
(stdlib only: the render workers import it too).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    """The process umask; read from /proc where it can be (setting it to read it races other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (and ``root``), so a rename of it publishes durable data."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: Path, suffix: str = "", durable: bool = False) -> Iterator[Path]:
    """A temp path to write; renamed onto ``path`` on success (``durable``: fsync file and folder).

    The temp file gets the permissions a plain ``open`` would give (mkstemp's 0600 would hide
    exported files from a web server). ``suffix`` keeps tools that look at the extension happy.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str, durable: bool = False) -> None:
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(obj, path: Path) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_jsonl_atomic(rows, path: Path, sort_keys: bool = True) -> int:
    """One JSON object a line; returns the number of rows written."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=sort_keys) + "\n")
            n += 1
    return n


@contextmanager
def atomic_dir(target: Path, durable: bool = False) -> Iterator[Path]:
    """A temp sibling folder to fill; it replaces ``target`` (and any old one) in one rename on success.

    The folder gets the permissions a plain ``mkdir`` would give (mkdtemp's 0700 would survive the
    rename and hide it from other users and a web server). ``durable``: fsync every file and folder
    written inside before the rename and the parent folder after it, so the new folder and its
    contents survive a power cut.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if durable:
            _fsync_tree(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if durable:
            fsync_dir(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
