"""Metrics of the coupling head: coordinate error in % of each allowed range, phase error in frames.

Both take the head's outputs against the searched targets (aivj/contract/coupling.py), over the
pairs that have targets. The third figure, the score the predicted setting achieves on the cached
frames against the searched best, needs the frame cache and is computed outside training
(aivj/compare, ``aivj.refinery.coupling_run.achieved_scores``).
"""

from __future__ import annotations

import torch

from aivj.contract.coupling import N_PHASES


def with_targets(batch: dict) -> torch.Tensor:
    """Rows of the batch that have a searched setting."""
    return ~torch.isnan(batch["coupling_target"][:, 0].float())


def coord_error_pct(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean |pred - target| over pairs and coordinates, in % of the allowed range (both normalised to [0, 1])."""
    return (pred.float() - target.float()).abs().mean() * 100.0


def phase_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Circular distance in frames between phase classes (a beat wraps: classes 0 and 15 are 1 frame apart)."""
    d = (a.long() - b.long()).abs() % N_PHASES
    return torch.minimum(d, N_PHASES - d)


def phase_error_frames(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return phase_distance(logits.argmax(-1), target).float().mean()


def setting_metrics(out: dict, batch: dict) -> tuple[dict[str, torch.Tensor], int]:
    """({"coupling_coord_err_pct", "coupling_phase_err_frames"}, pairs with targets); ({}, 0) when none."""
    if "coupling" not in out or "coupling_target" not in batch:
        return {}, 0
    seen = with_targets(batch)
    n = int(seen.sum())
    if n == 0:
        return {}, 0
    return {
        "coupling_coord_err_pct": coord_error_pct(out["coupling"][seen], batch["coupling_target"][seen]),
        "coupling_phase_err_frames": phase_error_frames(out["coupling_phase_logits"][seen], batch["coupling_phase"][seen]),
    }, n
