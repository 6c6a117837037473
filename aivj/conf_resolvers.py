"""The OmegaConf resolvers the configs use; every module that loads a config registers them first.

``${threshold:golden_pass_rate}`` is the figure of that name in aivj/contract/thresholds.py, so a
gate written in conf/ is the code's gate (change it there, not here).
"""

from __future__ import annotations

from omegaconf import OmegaConf

from aivj.contract.thresholds import THRESHOLDS


def threshold(name: str) -> float:
    if name not in THRESHOLDS:
        raise KeyError(f"${{threshold:{name}}}: no such threshold; known: {', '.join(sorted(THRESHOLDS))}")
    return THRESHOLDS[name]


def register_resolvers() -> None:
    """Idempotent: safe to call from every entry point."""
    if not OmegaConf.has_resolver("threshold"):
        OmegaConf.register_resolver("threshold", threshold)
