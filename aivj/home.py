"""Where the project and the state it generates live, found one way (docs/architecture.md).

``project_root()``: ``$AIVJ_ROOT``, else the checkout holding this package (configs, data/, models/).
``state_root()``: ``$AIVJ_HOME``, else ``<project>/var`` (gitignored): what runs and services write
and git must not see, one folder per kind (``STATE_KINDS``): the model registry, training runs,
Optuna studies, render caches, service data, the daemon's and the streaming reweighter's state. Configs read both through resolvers (``${project_root:}``, ``${state_root:}``,
aivj/configs.py), so code and configs agree.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_KINDS = ("registry", "runs", "studies", "cache", "services", "daemon", "stream")


def project_root() -> Path:
    env = os.environ.get("AIVJ_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[1]


def state_root() -> Path:
    env = os.environ.get("AIVJ_HOME")
    return Path(env) if env else project_root() / "var"


def state_dir(kind: str) -> Path:
    """``state_root()/kind`` for one of ``STATE_KINDS`` (not created here)."""
    if kind not in STATE_KINDS:
        raise ValueError(f"state kind must be one of {STATE_KINDS}, got {kind!r}")
    return state_root() / kind
