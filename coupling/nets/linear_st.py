"""Baseline ``model=linear_st``: the plan's bare rank model with global weights,
score = 5 * sigmoid(w_s * S + w_t * T + b).

S and T at test time: the pair's *predicted* S and T, from a small MLP on the two presets' inputs
(trained on the measured S/T as auxiliary targets), exactly as the coupling network gets them at
inference. Feeding it the measured S/T instead would hand the baseline a pair-level render
measurement the other models do not see (and which does not exist for an unrendered pair).
"""

from __future__ import annotations

import torch
from torch import nn

from coupling.nets.mlp import MLPCouplingNet


class LinearSTNet(nn.Module):
    def __init__(self, inputs: str = "both", hidden: int = 128, depth: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.st = MLPCouplingNet(inputs, hidden, depth, dropout)
        self.st.head = nn.Linear(self.st.head.in_features, 2)  # S and T logits instead of a score
        self.config = dict(inputs=inputs, hidden=hidden, depth=depth, dropout=dropout)
        self.w = nn.Parameter(torch.ones(2))  # softplus -> positive global (w_s, w_t)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        st = self.st
        x = torch.cat([st.preset(batch, "fg"), st.preset(batch, "bg")], dim=-1)
        s_t = torch.sigmoid(st.head(st.body(x)))
        s, t = s_t[:, 0], s_t[:, 1]
        w = nn.functional.softplus(self.w)
        w_s, w_t, bias = w[0].expand_as(s), w[1].expand_as(s), self.bias.expand_as(s)
        rank = torch.sigmoid(w_s * s + w_t * t + bias)
        return {"score": 5 * rank, "rank": rank, "spatial": s, "temporal": t, "w_s": w_s, "w_t": w_t, "rank_bias": bias}
