"""ResidualAttention: LayerNorm(softmax(Q K^T / sqrt(d_k)) V + Q), multi-head, and the FG<->BG block.

Shapes: tokens [P, T, d]; per-head projections [P, h, T, d_k]. Projections are separate methods so
the pair scorer can take them from a per-preset cache instead of computing them per pair.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from coupling.nets.dropout import FastDropout


def softmax_last(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim, written out: ~2x faster than torch.softmax on 9-wide rows on CPU."""
    e = (x - x.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


def pooled_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """mean over queries of softmax(q k^T) v: [P, h, Tq, d_k] x2, [P, h, Tk, d_k] -> [P, h, 1, d_k].

    Without autograd the softmax's division and the mean over queries are folded into one small matmul
    (weights 1 / (Tq * row sum) times the exponentials) and the exponentials are taken in place: two passes
    fewer over the [P, h, Tq, Tk] logits, the largest tensor of pair scoring.
    """
    logits = q @ k.transpose(-1, -2)
    if logits.requires_grad:
        # Training: softmax's fused backward and a weighted sum over the keys instead of the two batched
        # matmuls below, whose [1 x 9] and [9 x 1] backward products cost more than the formula (docs/benchmarks.md,
        # "Training step": ~1 ms of a 144-pair step).
        a = torch.softmax(logits, -1).mean(-2)  # [P, h, Tk]
        return (a.unsqueeze(-1) * v).sum(-2, keepdim=True)
    e = logits.sub_(logits.amax(-1, keepdim=True)).exp_()  # a fresh tensor outside autograd: in place is safe
    w = e.sum(-1).mul_(q.shape[-2]).reciprocal_().unsqueeze(-2)  # [P, h, 1, Tq]
    return (w @ e) @ v


def pooled_attention_block(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``pooled_attention`` of every query set against every key set: q [F, h, Tq, d_k], k, v [B, h, Tk, d_k]
    -> [F, B, h * d_k], the (f, b) row being pooled_attention(q[f], k[b], v[b]), the same formula.

    Written for a block of candidates (every FG of a pack against every BG), where per-pair matmuls of
    9 x 8 are the slow part in onnxruntime: the logits of the whole block are one GEMM per head, laid out
    keys down and queries across, so that the softmax's maximum and shift run over rows of F * Tq values
    (onnxruntime reduces and broadcasts over a 9-wide last axis ~10x slower), and the softmax's row sums come
    out of the value matmul (a row of ones appended to V)."""
    f, h, tq, dk = q.shape
    b, tk = k.shape[0], k.shape[2]
    logits = (k.transpose(0, 1).reshape(h, b * tk, dk) @ q.transpose(0, 1).reshape(h, f * tq, dk).transpose(1, 2)).view(
        h, b, tk, f * tq
    )  # [h, B, Tk, F * Tq]
    e = (logits - logits.amax(2, keepdim=True)).exp()  # each pair's own maximum, as in pooled_attention
    v1 = torch.cat([v, v.new_ones(b, h, tk, 1)], -1).permute(1, 0, 3, 2)  # [h, B, d_k + 1, Tk]
    u = v1 @ e  # [h, B, d_k + 1, F * Tq]: per query, sum_j e_j v_j and (last row) sum_j e_j
    mixed = (u[:, :, :dk] / u[:, :, dk:]).view(h, b, dk, f, tq).sum(-1) * (1.0 / tq)  # [h, B, d_k, F]
    # [h, B, d_k, F] -> [F, B, h, d_k] through a 2-D transpose: onnxruntime's general 4-D permutation is slow
    return mixed.reshape(h * b * dk, f).t().reshape(f, h, b, dk).transpose(1, 2).reshape(f, b, h * dk)


class ResidualAttention(nn.Module):
    """Multi-head attention of query tokens over key/value tokens with a residual on the query.

    ``forward(x_q [P, Tq, d], x_kv [P, Tk, d]) -> [P, Tq, d]``; ``pool=True`` returns the
    query-token mean [P, d] instead, normalised after pooling: LN(mean_t(x_q + attn)), which only
    needs the mean attention weights (the pair scorer's fast path). ``keep_attention`` stores the
    last map [P, h, Tq, Tk] (detached) for TensorBoard.
    """

    def __init__(self, dim: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention dim {dim} must be a multiple of heads {heads}")
        self.heads, self.d_k = heads, dim // heads
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.drop = FastDropout(dropout)  # on the output, not on the attention map (see attend)
        self.keep_attention = False
        self.last_attention: torch.Tensor | None = None

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:  # [P, T, d] -> [P, h, T, d_k]
        return x.unflatten(-1, (self.heads, self.d_k)).transpose(1, 2).contiguous()

    def project_q(self, x: torch.Tensor) -> torch.Tensor:
        return self.split_heads(self.q(x)) / math.sqrt(self.d_k)  # the 1/sqrt(d_k) folded into Q

    def project_kv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.split_heads(self.k(x)), self.split_heads(self.v(x))

    def attend(self, x_q: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pool: bool = False) -> torch.Tensor:
        # Dropout acts on the output projection only, not on the attention map: a mask over [P, h, T, T]
        # cost 2.7x the attention itself when measured (with the fused kernel this module used then).
        if self.keep_attention:
            attn = softmax_last(q @ k.transpose(-1, -2))  # [P, h, Tq, Tk]
            self.last_attention = attn.detach()
            mixed = attn.mean(2, keepdim=True) @ v if pool else attn @ v
        elif pool:  # the pair scorer's path: only the mean over queries is needed
            mixed = pooled_attention(q, k, v)  # [P, h, 1, d_k]
        else:  # not scaled_dot_product_attention: at 9 tokens its CPU kernel took ~1.3 ms more of a 144-pair step
            mixed = torch.softmax(q @ k.transpose(-1, -2), -1) @ v
        if pool:
            return self.pooled_output(x_q.mean(1), mixed.flatten(1))  # [P, d]
        mixed = mixed.transpose(1, 2).flatten(-2)  # [P, Tq, d]
        return self.norm(x_q + self.drop(self.out(mixed)))

    def pooled_output(self, x_mean: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
        """LN(mean query token + out(pooled attention [P, h * d_k])): the pooled path's output [P, d]."""
        return self.norm(x_mean + self.drop(self.out(mixed)))

    def forward(self, x_q: torch.Tensor, x_kv: torch.Tensor, pool: bool = False) -> torch.Tensor:
        return self.attend(x_q, self.project_q(x_q), *self.project_kv(x_kv), pool=pool)


class FeedForward(nn.Module):
    """Token-wise MLP with a post-norm residual."""

    def __init__(self, dim: int, ratio: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, ratio * dim), nn.GELU(), FastDropout(dropout), nn.Linear(ratio * dim, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.net(x))


class CrossBlock(nn.Module):
    """FG tokens attend to BG tokens and BG to FG (separate weights: the two directions differ).

    ``pool=True`` (the last block) returns pooled [P, d] vectors per layer and skips the FFN, which
    then runs once per pair in the network's trunk instead of once per token.
    """

    def __init__(self, dim: int, heads: int = 4, ffn: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.fg_from_bg = ResidualAttention(dim, heads, dropout)
        self.bg_from_fg = ResidualAttention(dim, heads, dropout)
        self.ffn = FeedForward(dim, 2, dropout) if ffn else nn.Identity()

    def project(self, x: torch.Tensor, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(Q as a query, K and V as keys for the other layer) of one layer's tokens; 0 = FG, 1 = BG."""
        mine, other = (self.fg_from_bg, self.bg_from_fg) if layer == 0 else (self.bg_from_fg, self.fg_from_bg)
        return (mine.project_q(x), *other.project_kv(x))

    def attend(self, fg: torch.Tensor, fg_qkv: tuple, bg: torch.Tensor, bg_qkv: tuple, pool: bool):
        (q_f, k_f, v_f), (q_b, k_b, v_b) = fg_qkv, bg_qkv
        fg2 = self.fg_from_bg.attend(fg, q_f, k_b, v_b, pool)
        bg2 = self.bg_from_fg.attend(bg, q_b, k_f, v_f, pool)
        if pool:
            return fg2, bg2
        n = fg2.shape[1]
        both = self.ffn(torch.cat([fg2, bg2], dim=1))  # one token-wise MLP call for both layers
        return both[:, :n], both[:, n:]

    def forward(self, fg: torch.Tensor, bg: torch.Tensor, pool: bool = False):
        return self.attend(fg, self.project(fg, 0), bg, self.project(bg, 1), pool)
