"""The batch every model reads: one dict of arrays, its keys named here once.

The datamodule (datamodules/pairs.py) gathers it, the networks (coupling/) read it, the gates
(callbacks/) and the exporters (aivj/export, aivj/inference) build it. A row is one FG/BG pair;
``*_static`` are the presets' .milk features [B, FEATURE_DIM], ``*_render`` their render
descriptors [B, RENDER_DIM] (zeros where ``*_has_render`` is 0). Values are torch tensors in
training and numpy arrays before collation: nothing here needs either.
"""

from __future__ import annotations

from typing import Any, TypedDict

SIDES = ("fg", "bg")

# What a network needs to score a pair (in this order: the ONNX graph's inputs).
MODEL_INPUTS = ("fg_static", "bg_static", "fg_render", "bg_render", "fg_has_render", "bg_has_render")
# What the datamodule adds: labels and the presets' rows in the presets table.
LABELS = ("score", "rank01", "spatial", "temporal", "is_elite")
INDICES = ("fg_idx", "bg_idx")
# Coupling targets (aivj/contract/coupling.py), where the pairs table has the coupling columns.
COUPLING_LABELS = ("coupling_target", "coupling_phase")
BATCH_KEYS = MODEL_INPUTS + LABELS + INDICES
HAS_RENDER_KEYS = ("fg_has_render", "bg_has_render")


class PairBatch(TypedDict, total=False):
    """``MODEL_INPUTS`` are always there; labels where the pairs are labelled (not at export)."""

    fg_static: Any  # [B, FEATURE_DIM] float32
    bg_static: Any
    fg_render: Any  # [B, RENDER_DIM] float32
    bg_render: Any
    fg_has_render: Any  # [B] float32, 1.0 = rendered
    bg_has_render: Any
    score: Any  # [B] float32, 0-5
    rank01: Any  # [B] float32, 1 = best of its pack
    spatial: Any  # [B] float32, NaN where not measured
    temporal: Any
    is_elite: Any  # [B] bool
    fg_idx: Any  # [B] int64, row in the presets table
    bg_idx: Any
    coupling_target: Any  # [B, 5] float32, the searched setting normalised to [0, 1] (coupling.CONTINUOUS); NaN where none
    coupling_phase: Any  # [B] int64, phase class 0..15 (coupling.phase_class); -1 where none


def static_path_batch(batch: PairBatch) -> PairBatch:
    """The batch as the static path sees it: no preset rendered (has_render = 0 on both layers).

    ``* 0`` keeps the array's kind, dtype and device without importing torch or numpy here.
    """
    return {**batch, **{k: batch[k] * 0 for k in HAS_RENDER_KEYS if k in batch}}


def path_batch(batch: PairBatch, path: str) -> PairBatch:
    """The batch on a scoring path (aivj/contract/scoring_paths.py): ``render`` as it comes, ``static`` without renders."""
    return batch if path == "render" else static_path_batch(batch)
