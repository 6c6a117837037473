"""The champion side of a run: roll a broken champion back, register the candidate, promote it.

A champion is broken when its files no longer match the sha256 recorded in its meta.json (a disk
error, a half-copied folder): the daemon rolls the pointer back to ``Registry.previous_good`` (the
rule the registry CLI and the alert webhook use), compare-and-set so a promotion made meanwhile
stands, and alerts; with no good one it clears the champion (``Registry.clear_champion``: a history
row, the fingerprint's pointer too) and the next run trains from scratch. Registering is idempotent: a
promotion step redone after a kill finds the version it registered from the same run folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from aivj.registry import Registry, register_run
from aivj.registry.store import RegistryError
from aivj.registry.succession import version_problems


def ensure_valid_champion(registry_dir) -> dict:
    """{"champion": the default champion after any rollback, "rolled_back": {from, to, why} or None}."""
    reg = Registry(registry_dir)
    read = reg.pointer_text()  # what the switch below compares against
    try:
        current = reg.champion()
    except RegistryError as exc:  # a garbage pointer file
        current, problems = read, [str(exc)]
    else:
        problems = version_problems(reg, current) if current else []
    if not problems:
        return {"champion": reg.default_champion(), "rolled_back": None}
    why = f"champion {current} is broken ({problems[0]})"
    try:
        good = reg.previous_good()
    except RegistryError:
        good = None
    if good is None:
        reg.clear_champion(f"daemon rollback: {why}; no earlier sound champion", expected=read)
        return {"champion": reg.default_champion(), "rolled_back": {"from": current, "to": None, "why": why}}
    reg.set_champion(good, f"daemon rollback: {why}", default=True, expected=read)
    return {"champion": good, "rolled_back": {"from": current, "to": good, "why": why}}


def registered_version(reg: Registry, run_dir: Path) -> str | None:
    for version in reversed(reg.versions()):
        try:
            if reg.meta(version).get("run_dir") == str(run_dir):
                return version
        except RegistryError:
            continue
    return None


def register_and_promote(registry_dir, run_dir: Path, checkpoint: str, data_dir: Path, figures: dict,
                         promote: bool, reason: str) -> dict:  # fmt: skip
    reg = Registry(registry_dir)
    version = registered_version(reg, run_dir)
    if version is None:
        config = OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "config.yaml"), resolve=False)
        metrics = {**json.loads((run_dir / "metrics.json").read_text())["metrics"], **figures}
        version, _, _ = register_run(run_dir, checkpoint, config, metrics, data_dir, auto_promote=False, registry_dir=reg.root)
    if promote and reg.champion() != version:
        reg.set_champion(version, reason, default=True)
    return {"version": version, "promoted": promote, "champion": reg.default_champion()}
