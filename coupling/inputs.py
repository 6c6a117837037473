"""Which per-preset inputs a network reads from a batch: static .milk features, render descriptors or both."""

from __future__ import annotations

import torch

from aivj.contract.schema import FEATURE_DIM, RENDER_DIM

INPUT_KINDS = ("static", "render", "both")


def check_inputs(inputs: str) -> str:
    if inputs not in INPUT_KINDS:
        raise ValueError(f"model inputs must be one of {INPUT_KINDS}, got {inputs!r}")
    return inputs


def preset_dim(inputs: str) -> int:
    """Width of ``preset_vector``: static 64, render 96 + has_render flag, both 64 + 97."""
    check_inputs(inputs)
    return (FEATURE_DIM if inputs != "render" else 0) + (RENDER_DIM + 1 if inputs != "static" else 0)


def preset_vector(static: torch.Tensor, render: torch.Tensor, has_render: torch.Tensor, inputs: str) -> torch.Tensor:
    """[N, preset_dim] per-preset input. Render zeros are masked by has_render and the flag is an input."""
    parts = []
    if inputs != "render":
        parts.append(static)
    if inputs != "static":
        flag = has_render.float().unsqueeze(-1)
        parts += [render * flag, flag]
    return torch.cat(parts, dim=-1)


def side_tensors(batch: dict, side: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(static, render, has_render) of one layer ('fg' or 'bg') of a batch."""
    return batch[f"{side}_static"], batch[f"{side}_render"], batch[f"{side}_has_render"]
