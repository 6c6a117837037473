"""The model registry: a plain folder of versioned models with one atomically switched champion.

``store.Registry`` owns the folder layout (versions, ``registry.json``, ``versions.csv``, the
``champion`` pointer and its history), ``rules`` the promotion rule, ``api.register_run`` what
train.py calls after a run, and ``cli`` the ``aivj registry`` command. docs/registry.md has the layout.
"""

from aivj.registry.api import register_run
from aivj.registry.rules import PromotionRules, decide_promotion
from aivj.registry.store import Registry, RegistryError, default_registry_dir

__all__ = ["PromotionRules", "Registry", "RegistryError", "decide_promotion", "default_registry_dir", "register_run"]
