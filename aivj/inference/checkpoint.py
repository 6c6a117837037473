"""Read a checkpoint file without letting it run code: ``torch.load(weights_only=True)`` and an allow-list.

A checkpoint is a pickle, and a pickle may name any Python function to call while it loads.
``read_checkpoint`` first loads with PyTorch's own weights-only unpickler (tensors, plain
containers, numbers, strings, ``pathlib`` paths). Checkpoints written before the coupling module
stopped saving OmegaConf lists in its hyperparameters need OmegaConf's containers, which that
unpickler cannot rebuild; those are read by a restricted unpickler that resolves only the same
allow-list plus OmegaConf's container and node classes (their state is data). Anything else is
refused before it runs: a one-line ``ValueError`` naming the file.
"""

from __future__ import annotations

import _compat_pickle
import collections
import pathlib
import pickle
import types
import typing
from pathlib import Path


def _extra_globals() -> dict[str, object]:
    from omegaconf import base, dictconfig, listconfig, nodes

    classes = [
        listconfig.ListConfig,
        dictconfig.DictConfig,
        base.ContainerMetadata,
        base.Metadata,
        nodes.AnyNode,
        nodes.StringNode,
        nodes.IntegerNode,
        nodes.FloatNode,
        nodes.BooleanNode,
        collections.defaultdict,
        pathlib.PosixPath,
        pathlib.WindowsPath,
    ]
    out: dict[str, object] = {f"{c.__module__}.{c.__qualname__}": c for c in classes}
    out["typing.Any"] = typing.Any
    out.update({f"builtins.{t.__name__}": t for t in (list, dict, tuple, set, frozenset, int, float, str, bool, bytes, complex)})
    return out


class _AllowListUnpickler(pickle.Unpickler):
    allowed: dict[str, object] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # protocol 2 names (__builtin__.long)
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        obj = self.allowed.get(f"{module}.{name}")
        if obj is None:
            raise pickle.UnpicklingError(f"Unsupported global {module}.{name} (not on the allow-list)")
        return obj


def _allow_list_pickle_module() -> types.ModuleType:
    from torch._weights_only_unpickler import _get_allowed_globals

    unpickler = type("Unpickler", (_AllowListUnpickler,), {"allowed": {**_get_allowed_globals(), **_extra_globals()}})
    module = types.ModuleType("aivj_allow_list_pickle")
    module.Unpickler, module.load, module.__version__ = unpickler, pickle.load, "1"
    return module


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].split(". ")[0][:160] if text else type(exc).__name__


_NOT_A_CHECKPOINT = (
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    KeyError,
    MemoryError,
    UnicodeDecodeError,
)


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict; ValueError (one line naming the file) for anything else."""
    import torch

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: a folder, not a checkpoint file")
    if not path.is_file():
        raise ValueError(f"{path}: no such checkpoint file")
    try:
        with torch.serialization.safe_globals([pathlib.PosixPath, pathlib.WindowsPath]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_allow_list_pickle_module())
        except pickle.UnpicklingError as exc:
            if not str(exc).startswith("Unsupported global"):  # not a pickle at all (a .milk, random bytes)
                raise ValueError(f"{path}: not a PyTorch checkpoint ({_first_line(exc)})") from None
            raise ValueError(
                f"{path}: refused: it needs Python objects a checkpoint written by train.py does not hold ({_first_line(exc)})"
            ) from None
        except _NOT_A_CHECKPOINT as exc:
            raise ValueError(f"{path}: not a PyTorch checkpoint ({_first_line(exc)})") from None
    except _NOT_A_CHECKPOINT as exc:
        raise ValueError(f"{path}: not a PyTorch checkpoint ({_first_line(exc)})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("state_dict"), dict):
        kind = "a dict without state_dict" if isinstance(obj, dict) else f"a {type(obj).__name__}"
        raise ValueError(f"{path}: not a Lightning checkpoint (it holds {kind})")
    return obj
