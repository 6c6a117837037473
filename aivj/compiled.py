"""The optional C extensions (setup.py builds them when a compiler is there) and the one switch that asks
for the Python/torch versions instead: ``AIVJ_PURE_PYTHON`` set to anything but "" or "0"."""

from __future__ import annotations

import importlib
import os


def pure_python_requested() -> bool:
    return os.environ.get("AIVJ_PURE_PYTHON", "") not in ("", "0")


def compiled(module: str, name: str):
    """``module.name`` of a built extension, or None: not built, or pure Python requested."""
    if pure_python_requested():
        return None
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None
