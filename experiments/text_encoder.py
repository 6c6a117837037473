"""Text encoder for the static path (research, issue 12; not wired into the pair model): tokens -> 96 render descriptors.

Why this shape (docs/model.md, "Static path"): a preset is up to ~700 tokens in ten sections whose
meaning is local (``ret *= 2`` in the comp shader, ``decay = 0.98`` in the base values). Tokens
are embedded (hashed id + section + their numeric value), mixed with their neighbours by two
depthwise convolutions (n-gram context at O(L)), and pooled per section by learned attention
queries; the ten section vectors and the 64 hand features then attend to each other in a small
transformer, where attention is over 11 tokens rather than 700 and so is cheap on a CPU.
Pretrained on every rendered preset to predict its own render descriptors (standardised).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from aivj.milk.tokens import SECTIONS, VOCAB_SIZE


class _ConvBlock(nn.Module):
    def __init__(self, d: int, kernel: int = 5) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.depthwise = nn.Conv1d(d, d, kernel, padding=kernel // 2, groups=d)
        self.pointwise = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        h = self.depthwise(self.norm(x).transpose(1, 2)).transpose(1, 2)
        return x + self.pointwise(F.gelu(h)) * keep


class TextDescriptorNet(nn.Module):
    def __init__(self, out_dim: int = 96, static_dim: int = 64, d: int = 64, heads: int = 4, layers: int = 2,
                 queries: int = 2, dropout: float = 0.1, conv_blocks: int = 1) -> None:  # fmt: skip
        super().__init__()
        self.sections, self.queries = len(SECTIONS), queries
        self.token = nn.Embedding(VOCAB_SIZE, d, padding_idx=0)
        self.section = nn.Embedding(self.sections, d)
        self.value = nn.Linear(1, d)
        self.convs = nn.ModuleList([_ConvBlock(d) for _ in range(conv_blocks)])
        self.pool_query = nn.Parameter(torch.randn(self.sections * queries, d) * 0.02)
        self.static = nn.Sequential(nn.Linear(static_dim, d), nn.GELU(), nn.Linear(d, d))
        self.slot = nn.Parameter(torch.randn(self.sections * queries + 1, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout, batch_first=True, norm_first=True)
        self.mixer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, out_dim))

    def forward(self, ids: torch.Tensor, values: torch.Tensor, sections: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        """[N, L] ids/values/sections + [N, 64] static -> [N, out_dim] standardised descriptors."""
        keep = (ids != 0).unsqueeze(-1).float()
        sec = sections.long()
        x = (self.token(ids.long()) + self.section(sec) + self.value(values.unsqueeze(-1))) * keep
        for conv in self.convs:
            x = conv(x, keep)
        # attention pooling: query q of section s only sees that section's tokens
        logits = torch.einsum("qd,nld->nql", self.pool_query, x) / x.shape[-1] ** 0.5
        query_section = torch.arange(self.sections, device=ids.device).repeat_interleave(self.queries)
        visible = (sec.unsqueeze(1) == query_section.view(1, -1, 1)) & (ids != 0).unsqueeze(1)
        weights = torch.softmax(logits.float().masked_fill(~visible, -1e4), dim=-1) * visible.any(-1, keepdim=True)
        pooled = torch.einsum("nql,nld->nqd", weights, x)
        tokens = torch.cat([pooled, self.static(static).unsqueeze(1)], dim=1) + self.slot
        return self.head(self.mixer(tokens).mean(dim=1))
