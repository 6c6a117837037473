"""Baseline: an MLP on the concatenated FG and BG preset vectors (order matters by position)."""

from __future__ import annotations

import torch
from torch import nn

from coupling.inputs import check_inputs, preset_dim, preset_vector, side_tensors


class MLPCouplingNet(nn.Module):
    def __init__(self, inputs: str = "both", hidden: int = 256, depth: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.inputs = check_inputs(inputs)
        self.config = dict(inputs=inputs, hidden=hidden, depth=depth, dropout=dropout)
        d = preset_dim(inputs)
        # Features come in very different units; a non-affine BatchNorm standardises them from data.
        self.norm = nn.BatchNorm1d(d, affine=False)
        layers, width = [], 2 * d
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)

    def preset(self, batch: dict, side: str) -> torch.Tensor:
        return self.norm(preset_vector(*side_tensors(batch, side), self.inputs))

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x = torch.cat([self.preset(batch, "fg"), self.preset(batch, "bg")], dim=-1)
        logit = self.head(self.body(x)).squeeze(-1)
        return {"score": 5.0 * torch.sigmoid(logit)}
