"""Who is champion: the compare-and-set switch of the champion pointers, clearing them, and the one rule
that picks a rollback target.

``Registry.set_champion``/``clear_champion``/``previous_good`` call these. The switch is taken under the
registry's lock (``Registry.lock``: an flock, so it holds across processes and threads) and, given
``expected``, refuses when the default pointer no longer says what the caller read: a webhook that read
the champion, then decided, cannot overwrite a promotion that landed in between.

A rollback target (the ``aivj registry rollback`` CLI, the alert webhook, the daemon) is the newest
earlier default champion of the history, still in the writable folder, that is sound: every file
matches the sha256 recorded in its meta.json and its checkpoint is a complete archive. The webhook
also skips versions an alert rolled away from (``avoid_rolled_away_by``: the reason prefix it writes).
"""

from __future__ import annotations

import contextlib
import json
import time
import zipfile

from aivj.contract.atomic import fsync_dir, write_text_atomic
from aivj.registry.files import CHAMPIONS, HISTORY, POINTER, RegistryError, read_pointer, safe_name, sha256_file

ANY = object()  # ``expected`` left out: switch whatever the pointer says


def checkpoint_problem(reg, version: str) -> str:
    """Empty when the version's checkpoint matches its recorded sha256 and is a complete archive."""
    ckpt = reg.checkpoint(version)
    recorded = reg.meta(version).get("files", {}).get("model.ckpt")
    if not ckpt.is_file():
        return f"{ckpt}: missing"
    if not recorded:
        return f"{ckpt.parent / 'meta.json'}: no sha256 recorded for model.ckpt"
    if sha256_file(ckpt) != recorded:
        return f"{ckpt}: sha256 differs from the one recorded at registration (truncated or replaced)"
    with open(ckpt, "rb") as fh:
        is_zip = fh.read(2) == b"PK"
    if is_zip:  # torch.save's format: a truncated one has no central directory
        try:
            with zipfile.ZipFile(ckpt) as z:
                bad = z.testzip()
        except (zipfile.BadZipFile, OSError) as exc:
            return f"{ckpt}: not a complete checkpoint archive ({exc})"
        if bad:
            return f"{ckpt}: member {bad} fails its CRC"
    return ""


def file_problems(reg, version: str) -> list[str]:
    """Recorded files that are missing or whose sha256 differs from meta.json."""
    try:
        recorded = reg.meta(version).get("files", {})
    except RegistryError as exc:
        return [str(exc)]
    problems = []
    for name, digest in recorded.items():
        path = reg.path(version) / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif sha256_file(path) != digest:
            problems.append(f"{path}: sha256 differs from meta.json")
    return problems


def version_problems(reg, version: str) -> list[str]:
    """Empty when the version is sound: every recorded file matches and the checkpoint is a complete archive."""
    problems = file_problems(reg, version)
    if problems:
        return problems
    try:
        problem = checkpoint_problem(reg, version)
    except RegistryError as exc:
        problem = str(exc)
    return [problem] if problem else []


def previous_good(reg, avoid_rolled_away_by: str | None = None) -> str:
    """The newest earlier default champion that is registered here, sound, and (``avoid_rolled_away_by``:
    a reason prefix) was not rolled away from by a change with that reason."""
    history, current = reg.history(), reg.pointer_text()
    rolled_away = set()
    if avoid_rolled_away_by:
        rolled_away = {r.get("previous") for r in history if str(r.get("reason", "")).startswith(avoid_rolled_away_by)}
    appointed = [history[0].get("previous")] if history else []  # the champion before the history began
    appointed += [row.get("champion") for row in history if row.get("default", True)]
    for version in dict.fromkeys(reversed(appointed)):
        if not version or version == current or version in rolled_away or version not in reg.versions():
            continue
        if not version_problems(reg, version):
            return version
    raise RegistryError(f"{reg.root}: no earlier sound champion to roll back to (history: {len(history)} change(s))")


def _check_expected(reg, expected) -> None:
    actual = reg.pointer_text()
    if expected is not ANY and actual != expected:
        raise RegistryError(
            f"{reg.root / POINTER}: the champion moved to {actual} since it was read as {expected}; nothing changed"
        )


def _append_history(reg, champion: str | None, previous: str | None, fingerprint, default: bool, reason: str) -> None:
    row = {"time": round(time.time(), 3), "champion": champion, "previous": previous, "fingerprint": fingerprint}
    with open(reg.root / HISTORY, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({**row, "default": default, "reason": reason}) + "\n")


def _current(reg) -> str | None:
    with contextlib.suppress(RegistryError):
        return reg.champion()
    return None


def set_champion(reg, version: str, reason: str, default: bool = True, expected=ANY) -> None:
    reg.refuse_shipped()
    if not (reg.root / str(version)).is_dir():
        reg.path(version)  # raises "no version"
        raise RegistryError(
            f"{version} is in the shipped folder {reg.shipped}, not in {reg.root}: "
            f"only versions of the writable registry can be promoted"
        )
    fingerprint = reg.fingerprint(version)
    with reg.lock():
        _check_expected(reg, expected)
        previous = _current(reg)
        if safe_name(fingerprint):
            write_text_atomic(reg.root / CHAMPIONS / fingerprint, version + "\n", durable=True)
        if default:
            write_text_atomic(reg.root / POINTER, version + "\n", durable=True)
        _append_history(reg, version, previous, fingerprint, default, reason)
        reg.rebuild_index()


def clear_champion(reg, reason: str, expected=ANY) -> str | None:
    """Remove the default pointer and every per-fingerprint pointer naming the same version; returns it."""
    reg.refuse_shipped()
    with reg.lock():
        _check_expected(reg, expected)
        previous = _current(reg)
        fingerprint = None
        if previous:
            with contextlib.suppress(RegistryError):
                fingerprint = reg.fingerprint(previous)
            folder = reg.root / CHAMPIONS
            for pointer in sorted(folder.iterdir()) if folder.is_dir() else []:
                with contextlib.suppress(RegistryError):
                    if read_pointer(pointer, reg.root) == previous:
                        pointer.unlink()
            fsync_dir(folder)
        (reg.root / POINTER).unlink(missing_ok=True)
        fsync_dir(reg.root)
        _append_history(reg, None, previous, fingerprint, True, reason)
        reg.rebuild_index()
    return previous
