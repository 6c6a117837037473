"""Build a model from its composed config without Hydra: ``_target_`` nodes of trusted packages only.

The loader needs this much of ``hydra.utils.instantiate`` (``_target_``, ``_args_``, ``_partial_``,
nested nodes) and no more; a service or a tool loading a model then needs neither Hydra nor the
Trainer. A target outside ``aivj.contract.trusted`` is refused before anything is imported.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping

from aivj.contract import trusted

_RESERVED = ("_target_", "_args_", "_partial_", "_recursive_", "_convert_")


class BuildError(ValueError):
    """A node that cannot be built; the message is one line."""


def import_target(path: str):
    module, _, name = path.replace(":", ".").rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise BuildError(f"{path}: cannot be imported ({exc})") from None


def build_trusted(node):
    """The object a plain config node (dicts, lists, scalars) describes."""
    if isinstance(node, Mapping):
        if "_target_" not in node:
            return {k: build_trusted(v) for k, v in node.items()}
        target = node["_target_"]
        if not trusted.is_trusted(target):
            raise BuildError(f"_target_ {target!r} is outside the trusted packages ({', '.join(trusted.TRUSTED_TARGETS)})")
        args = [build_trusted(a) for a in node.get("_args_", [])]
        kwargs = {k: build_trusted(v) for k, v in node.items() if k not in _RESERVED}
        factory = import_target(target)
        if node.get("_partial_"):
            return functools.partial(factory, *args, **kwargs)
        try:
            return factory(*args, **kwargs)
        except (TypeError, ValueError) as exc:
            raise BuildError(
                f"{target}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__}"
            ) from None
    if isinstance(node, (list, tuple)):
        return [build_trusted(v) for v in node]
    return node
