"""Ship a version: copy it into the tracked ``models/`` folder as the champion a fresh clone gets.

Only ``aivj registry ship VERSION`` writes there. The copy is built under a temporary name, checked
against the sha256 sums recorded at registration, renamed into place, and only then is the shipped
pointer switched (temp + ``os.replace``). The previously shipped version is moved into the writable
registry (unless it is already there) so it can still be rolled back to, then removed from
``models/``: the tracked folder holds one version.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from aivj.contract.atomic import atomic_dir, write_text_atomic
from aivj.registry.store import (
    POINTER,
    Registry,
    RegistryError,
    shipped_dir,
)
from aivj.registry.succession import checkpoint_problem  # noqa: F401  (re-exported: callers import it from ship)


def ship(version: str, reg: Registry | None = None, target: Path | None = None) -> Path:
    """Copy ``version`` from ``reg`` into ``target`` (default: models/) and make it the shipped champion."""
    reg = reg or Registry()
    target = Path(target) if target else shipped_dir()
    if target is None:
        raise RegistryError("AIVJ_SHIPPED_DIR is empty: no shipped folder to ship into")
    problem = checkpoint_problem(reg, version)
    if problem:
        raise RegistryError(f"not shipped: {problem}")
    source = reg.path(version)
    shipped = Registry(target, shipped=None)
    target.mkdir(parents=True, exist_ok=True)
    with shipped.lock():
        previous = shipped.champion() if (target / POINTER).exists() else None
        if source.resolve() != (target / version).resolve() and not (target / version).is_dir():
            tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=target))
            try:
                shutil.copytree(source, tmp / version)
                if checkpoint_problem(Registry(tmp, shipped=None), version):
                    raise RegistryError(f"{tmp / version}: the copy does not match {source}")
                (tmp / version).replace(target / version)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        write_text_atomic(target / POINTER, version + "\n", durable=True)
    if previous and previous != version:
        if reg.root.resolve() != target.resolve() and not (reg.root / previous).exists():
            reg.root.mkdir(parents=True, exist_ok=True)
            with atomic_dir(reg.root / previous, durable=True) as tmp:
                shutil.copytree(target / previous, tmp, dirs_exist_ok=True)
            reg.rebuild_index()
        trash = target / f".trash-{previous}"
        (target / previous).replace(trash)
        shutil.rmtree(trash, ignore_errors=True)
    shipped.rebuild_index()
    return target / version
