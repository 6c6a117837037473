"""The champion side of a run: roll a broken champion back, register the candidate, promote it.

A champion is broken when its files no longer match the sha256 recorded in its meta.json (a disk
error, a half-copied folder): the daemon rolls the pointer back to the newest earlier champion of the
history that verifies (``Registry.set_champion``, atomic), and alerts. Registering is idempotent: a
promotion step redone after a kill finds the version it registered from the same run folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from aivj.registry import Registry, register_run
from aivj.registry.store import RegistryError


def ensure_valid_champion(registry_dir) -> dict:
    """{"champion": the default champion after any rollback, "rolled_back": {from, to, why} or None}."""
    reg = Registry(registry_dir)
    try:
        current = reg.champion()
    except RegistryError as exc:  # a garbage pointer file
        current, problems = None, [str(exc)]
    else:
        problems = reg.verify(current) if current else []
    if not problems:
        return {"champion": reg.default_champion(), "rolled_back": None}
    earlier = [h["champion"] for h in reversed(reg.history()) if h.get("champion") not in (None, current)]
    good = next((v for v in dict.fromkeys(earlier) if v in reg.versions() and not reg.verify(v)), None)
    why = f"champion {current} is broken ({problems[0]})"
    if good is None:
        (reg.root / "champion").unlink(missing_ok=True)  # no good one to go back to: train from scratch
        return {"champion": reg.default_champion(), "rolled_back": {"from": current, "to": None, "why": why}}
    reg.set_champion(good, f"daemon rollback: {why}", default=True)
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
