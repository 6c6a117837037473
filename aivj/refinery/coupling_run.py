"""Run the coupling search over many pairs from the frame cache, and score given settings there.

Pairs go through in chunks sorted by FG preset, so a preset's zoomed variants are computed once
for its run of pairs; frames are read from the refinery's frame cache (one .npz per preset).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aivj.contract import coupling as cc
from aivj.refinery.bank import PresetBank
from aivj.refinery.coupling_layers import LayerArrays, layer_arrays, scaled_variants, transformed
from aivj.refinery.coupling_search import Chunk, evaluate, search

FIELDS = ("rgb", "maps", "z", "sd", "energy")


def _stack(parts: list[LayerArrays]) -> LayerArrays:
    return LayerArrays(*(np.stack([getattr(p, f) for p in parts]) for f in FIELDS))


class LayerSource:
    """Frames by preset id (any callable: a FrameCache's load_frames, a dict's get) and the bank's
    per-preset vitality, envelope and sample frames; keeps the last ``keep`` presets' variants."""

    def __init__(self, load_frames: Callable[[str], np.ndarray], bank: PresetBank, keep: int = 256) -> None:
        self.load_frames, self.bank, self.keep = load_frames, bank, keep
        self.row = bank.index()
        self._fg: OrderedDict[str, LayerArrays] = OrderedDict()
        self._bg: OrderedDict[str, LayerArrays] = OrderedDict()

    def _cached(self, store: OrderedDict, pid: str, make) -> LayerArrays:
        if pid in store:
            store.move_to_end(pid)
            return store[pid]
        store[pid] = value = make(self.load_frames(pid))
        if len(store) > self.keep:
            store.popitem(last=False)
        return value

    def fg(self, pid: str) -> LayerArrays:
        return self._cached(self._fg, pid, lambda f: scaled_variants(f, cc.SCALE_LEVELS))

    def bg(self, pid: str) -> LayerArrays:
        return self._cached(self._bg, pid, layer_arrays)

    def chunk(self, fg_ids, bg_ids, fg_layers: list[LayerArrays] | None = None) -> Chunk:
        fg = _stack(fg_layers) if fg_layers is not None else _stack([self.fg(f) for f in fg_ids])
        gate = np.minimum(
            self.bank.vitality[[self.row[f] for f in fg_ids]], self.bank.vitality[[self.row[b] for b in bg_ids]]
        ).astype(np.float64)
        return Chunk(fg, _stack([self.bg(b) for b in bg_ids]), gate, self.bank.envelope, self.bank.sample_frames)


@dataclass
class SearchResult:
    columns: dict[str, np.ndarray]  # COUPLING_COLUMNS, one value per pair in the order given
    default_score: np.ndarray
    seconds: float


def search_pairs(source: LayerSource, fg_ids, bg_ids, chunk: int = 32, rounds: int = 2, progress=None) -> SearchResult:
    """The best setting of every pair; ``progress(n_done)`` is called after each chunk."""
    fg_ids, bg_ids = np.asarray(fg_ids, dtype=object), np.asarray(bg_ids, dtype=object)
    order = np.argsort(fg_ids, kind="stable")
    cols: dict[str, np.ndarray] = {}
    default = np.zeros(len(fg_ids))
    t0 = time.perf_counter()
    for lo in range(0, len(order), chunk):
        sel = order[lo : lo + chunk]
        best = search(source.chunk(fg_ids[sel], bg_ids[sel]), rounds)
        for k, v in best.columns().items():
            cols.setdefault(k, np.zeros(len(fg_ids), v.dtype))[sel] = v
        default[sel] = best.default_score
        if progress is not None:
            progress(len(sel))
    return SearchResult(cols, default, time.perf_counter() - t0)


def achieved_scores(source: LayerSource, fg_ids, bg_ids, settings: dict[str, np.ndarray]) -> np.ndarray:
    """The pair score under given, possibly off-grid, settings (``settings``: CONTINUOUS names in app
    units and ``phase`` in frames, one value per pair); opacities are put within the budget first."""
    a_f, a_b = cc.within_budget(np.asarray(settings["fg_opacity"], float), np.asarray(settings["bg_opacity"], float))
    scale = np.clip(np.asarray(settings["scale"], float), *cc.SCALE_RANGE)
    dx, dy = (np.clip(np.asarray(settings[k], float), *cc.OFFSET_RANGE) for k in ("dx", "dy"))
    k = np.rint(np.asarray(settings["phase"], float)).astype(np.int64)
    out = np.zeros(len(fg_ids))
    for i, (f, b) in enumerate(zip(fg_ids, bg_ids)):
        layer = transformed(source.load_frames(f), float(scale[i]), float(dx[i]), float(dy[i]))
        fg = LayerArrays(*(getattr(layer, name)[None] for name in FIELDS))  # one "scale": the transform itself
        c = source.chunk([f], [b], [fg])
        zero = np.zeros((1, 1), np.int64)
        out[i] = evaluate(c, a_f[i : i + 1, None], a_b[i : i + 1, None], zero, zero, zero, k[i : i + 1, None])[0, 0]
    return out
