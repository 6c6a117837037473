"""Deterministic A/B assignment: a client's arm is a function of (experiment, client id) alone.

``u = sha256("<experiment>:<client id>")`` read as a number in [0, 1) picks the arm whose share of the
cumulative weights holds it, so the player, the feedback service and the analysis agree without
storing anything, and a client keeps its arm across sessions. Salting with the experiment's name makes
arms of different experiments independent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from aivj.home import project_root

EXPERIMENTS_DIR = "conf/ab"


def unit_hash(experiment: str, client_id: str) -> float:
    digest = hashlib.sha256(f"{experiment}:{client_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: dict[str, float]  # arm -> weight; the first arm is the control
    primary: str = "mean_dwell"
    alpha: float = 0.05
    power: float = 0.8
    mde: float = 0.10  # the smallest relative lift of the primary metric the horizon is sized for
    baseline_cv: float = 0.5  # spread of the per-client primary metric over its mean, from past data
    analysis: dict = field(default_factory=dict)

    @property
    def control(self) -> str:
        return next(iter(self.variants))

    def assign(self, client_id: str) -> str:
        u, total, acc = unit_hash(self.name, client_id), sum(self.variants.values()), 0.0
        for arm, weight in self.variants.items():
            acc += weight / total
            if u < acc:
                return arm
        return arm  # u within rounding of 1.0


def load_experiment(path: Path) -> Experiment:
    try:
        doc = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as exc:  # noqa: BLE001 - YAML and OmegaConf raise many types for a bad file
        raise ValueError(f"{path}: not a readable experiment config ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("variants"), dict) or len(doc["variants"]) < 2:
        raise ValueError(f"{path}: needs 'variants', a mapping of at least two arms to weights")
    if any(not isinstance(w, (int, float)) or w <= 0 for w in doc["variants"].values()):
        raise ValueError(f"{path}: every variant weight must be a positive number")
    known = set(Experiment.__dataclass_fields__)
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown} (known: {sorted(known)})")
    doc.setdefault("name", path.stem)
    if doc["name"] != path.stem:
        raise ValueError(f"{path}: name {doc['name']!r} differs from the file's name (the name salts the assignment)")
    return Experiment(**doc)


def load_experiments(folder: Path | None = None) -> dict[str, Experiment]:
    folder = Path(folder) if folder else project_root() / EXPERIMENTS_DIR
    return {p.stem: load_experiment(p) for p in sorted(folder.glob("*.yaml"))}
