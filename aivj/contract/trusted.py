"""Which code a config or a checkpoint may name: this project's packages and a few well-kept libraries.

A sweep or a shared experiment file cannot make train.py, the loader or a service call arbitrary
code: ``_target_``s outside ``TRUSTED_TARGETS`` are refused (Hydra's execution whitelist in
training, ``aivj.inference.build`` when a model loads, ``aivj validate`` before a run).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

PROJECT_PACKAGES = ("coupling", "datamodules", "callbacks", "aivj", "experiments")
TRUSTED_TARGETS = [*(f"{p}.*" for p in PROJECT_PACKAGES), "lightning.*", "torch.*", "torchmetrics.*", "sklearn.*"]


def is_trusted(target: str, patterns=None) -> bool:
    patterns = TRUSTED_TARGETS if patterns is None else patterns  # read at call time: tests extend it
    return isinstance(target, str) and any(fnmatchcase(target, p) for p in patterns)


def is_project_class(path: str) -> bool:
    """A class of this project's own packages (what a checkpoint may name as its module class)."""
    return is_trusted(path, [f"{p}.*" for p in PROJECT_PACKAGES])
