"""DualLayerCouplingNetwork: scores an ordered (FG, BG) preset pair 0-5, with S, T and adaptive weights.

  preset features --(shared encoder + FG/BG layer embedding)--> tokens [T, d] per layer   (per preset)
  FG tokens <-> BG tokens: N CrossBlocks of ResidualAttention, both directions           (per pair)
  the last block pools each layer's tokens -> [fg, bg, fg*bg] -> trunk -> score, S, T, (w_s, w_t)

``encode_presets`` depends on a preset alone, so a pack's presets are encoded once and
``score_pairs`` scores any (fg_idx, bg_idx) pairs from the cache; ``forward(batch)`` gives the same
scores without the cache, encoding each preset only as the layer it plays in its pair. The cache row of a preset holds, per layer, its mean token, its tokens and the first
block's Q, K, V, so with one block (the default) a pair costs only the attention itself. The rank head is ``sigmoid(w_s * S + w_t * T + b)``; the loss feeds measured S, T into it
where the batch has them, inference uses the S, T heads.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from aivj.compiled import pure_python_requested
from aivj.contract.coupling import CONTINUOUS, N_PHASES
from aivj.contract.schema import FEATURE_DIM, RENDER_DIM
from coupling.groups import token_groups
from coupling.inputs import check_inputs, side_tensors
from coupling.nets.attention import CrossBlock, FeedForward, ResidualAttention, pooled_attention_block
from coupling.nets.dropout import FastDropout

try:  # the pair attention in C (coupling/nets/_pair_attention.c), built at install when a compiler is there
    from coupling.nets import _pair_attention
except ImportError:
    _pair_attention = None


def block_tiles(n_fg: int, n_bg: int, tile: int = 4096) -> tuple[int, int]:
    """(FG parts, BG parts) a block of n_fg x n_bg candidates is cut into (``tensor_split`` /
    ``np.array_split``): tiles of at most ``tile`` pairs, as square as the block allows, their sizes differing
    by at most one (100 x 100 -> four 50 x 50). A tile's logits (4 heads x 81 per pair) then stay in the CPU
    cache: 4,096 pairs a tile scored 10,000 pairs in ~35 ms in onnxruntime against ~50 ms as one 100 x 100
    tile (docs/benchmarks.md, "Pair scoring")."""
    if tile < 1:
        raise ValueError(f"tile must be at least 1 pair, got {tile}")
    fg_parts = -(-n_fg // max(math.isqrt(tile), tile // max(n_bg, 1), 1))  # few BG: taller tiles
    rows = -(-n_fg // fg_parts) if n_fg else 1  # the tallest tile
    return max(fg_parts, 1), max(-(-n_bg // max(1, tile // rows)), 1)


class RenderPredictor(nn.Module):
    """Static features [N, 64] -> the preset's own render descriptors [N, 96], as a stand-in for a missing render.

    Works in standardised units: the targets are z-scored with running per-dimension statistics of
    the rendered presets seen in training (the motion series has a spread ~10x below the luma map's),
    and the prediction is mapped back to the render scale before the render embeddings read it.
    """

    def __init__(self, hidden: int = 128, dropout: float = 0.1, stats_window: int = 2000) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(FEATURE_DIM, hidden),
            nn.GELU(),
            FastDropout(dropout),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, RENDER_DIM),
        )
        self.stats_window = stats_window  # batches: a cumulative mean first, then an EMA over ~this many
        self.register_buffer("render_mean", torch.zeros(RENDER_DIM))
        self.register_buffer("render_sq", torch.ones(RENDER_DIM))
        self.register_buffer("batches", torch.zeros(()))

    def _std(self) -> torch.Tensor:
        return (self.render_sq - self.render_mean.pow(2)).clamp(min=1e-6).sqrt()

    @torch.no_grad()
    def _update_stats(self, render: torch.Tensor, has: torch.Tensor) -> None:
        # Masked sums and a rate of 0 for a batch with fewer than 2 rendered presets, instead of a boolean
        # index and an early return: no data-dependent shape or branch, so torch.compile keeps one graph.
        seen = (has > 0.5).to(render.dtype).unsqueeze(-1)
        n = seen.sum()
        counted = (n >= 2).to(self.batches.dtype)
        self.batches += counted
        rate = counted / self.batches.clamp(min=1, max=self.stats_window)
        self.render_mean.lerp_((render * seen).sum(0) / n.clamp(min=1), rate)
        self.render_sq.lerp_((render.pow(2) * seen).sum(0) / n.clamp(min=1), rate)

    def forward(self, static: torch.Tensor, render: torch.Tensor, has: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(predicted render [N, 96] on the render scale, standardised MSE over the rendered presets)."""
        if self.training:
            self._update_stats(render, has)
        std = self._std()
        z_hat = self.net(static)
        z = (render - self.render_mean) / std
        seen = has.unsqueeze(-1)
        loss = ((z_hat - z).pow(2) * seen).sum() / (seen.sum() * RENDER_DIM).clamp(min=1)
        return self.render_mean + std * z_hat, loss


class PresetEncoder(nn.Module):
    """One preset -> [2, T, d]: its tokens as the FG layer (index 0) and as the BG layer (index 1).

    A preset without a render (has_render = 0) gets, in place of its render tokens, either the
    learned constant stand-ins (``unrendered``) or, with ``render_predictor``, the embedding of its
    render descriptors as predicted from its static features. ``render_dropout`` (training only)
    treats that share of presets as unrendered, so the static path is trained at all.
    """

    def __init__(
        self,
        inputs: str,
        dim: int,
        heads: int,
        layers: int,
        dropout: float,
        render_dropout: float = 0.0,
        render_predictor: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 <= render_dropout < 1.0:
            raise ValueError(f"render_dropout must be in [0, 1), got {render_dropout}")
        groups = token_groups(inputs)
        self.token_names = list(groups)
        self.sources = [src for src, _ in groups.values()]
        if render_predictor and inputs != "both":
            raise ValueError(
                f"render_predictor needs inputs=both (it reads static features, feeds render tokens), got {inputs!r}"
            )
        for i, (_, idx) in enumerate(groups.values()):
            self.register_buffer(f"idx{i}", torch.tensor(idx), persistent=False)
        self.embed = nn.ModuleList(nn.Linear(len(idx), dim) for _, idx in groups.values())
        self.unrendered = nn.Parameter(torch.zeros(len(groups), dim))  # stands in for a missing render
        self.render_dropout = float(render_dropout)
        self.predictor = RenderPredictor(dropout=dropout) if render_predictor else None
        self.layer_embedding = nn.Parameter(0.1 * torch.randn(2, dim))
        self.norm = nn.LayerNorm(dim)
        self.self_attn = nn.ModuleList(ResidualAttention(dim, heads, dropout) for _ in range(layers))
        self.ffn = nn.ModuleList(FeedForward(dim, 2, dropout) for _ in range(layers))

    def tokens_and_aux(
        self, static: torch.Tensor, render: torch.Tensor, has_render: torch.Tensor, layers: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Tokens [N, 2, T, d] (or [N, T, d] of the given ``layers`` [N], 0 = FG, 1 = BG), the render
        predictor's loss (None without a predictor), has_render after dropout."""
        has_render = has_render.float()
        aux = None
        if self.predictor is not None:
            predicted, aux = self.predictor(static, render, has_render)
        if self.training and self.render_dropout > 0:
            has_render = has_render * (torch.rand_like(has_render) >= self.render_dropout).float()
        has = has_render.unsqueeze(-1)
        if self.predictor is not None:
            render = has * render + (1 - has) * predicted
        tokens = []
        for i, (src, embed) in enumerate(zip(self.sources, self.embed)):
            x = embed((static if src == "static" else render).index_select(-1, getattr(self, f"idx{i}")))
            if src == "render" and self.predictor is None:
                x = has * x + (1 - has) * self.unrendered[i]
            tokens.append(x)
        t = self.norm(torch.stack(tokens, dim=1))  # [N, T, d]
        n, nt, d = t.shape
        if layers is None:  # both layers of every preset (the cache)
            t = (t.unsqueeze(1) + self.layer_embedding[:, None, :]).reshape(2 * n, nt, d)
        else:  # only the layer each preset plays in its pair: half the work of both
            t = t + self.layer_embedding[layers].unsqueeze(1)
        for attn, ffn in zip(self.self_attn, self.ffn):
            t = ffn(attn(t, t))
        return (t.reshape(n, 2, nt, d) if layers is None else t), aux, has_render

    def forward(self, static: torch.Tensor, render: torch.Tensor, has_render: torch.Tensor) -> torch.Tensor:
        return self.tokens_and_aux(static, render, has_render)[0]


class AdaptiveWeightNetwork(nn.Module):
    """Pair representation -> positive (w_s, w_t); with ``adaptive=False`` one global pair of weights."""

    def __init__(self, dim: int, adaptive: bool = True) -> None:
        super().__init__()
        self.adaptive = adaptive
        self.net = nn.Sequential(nn.Linear(dim, dim // 2), nn.GELU(), nn.Linear(dim // 2, 2)) if adaptive else None
        self.global_w = nn.Parameter(torch.ones(2))
        self.bias = nn.Parameter(torch.zeros(1))  # b of the rank head

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self.net(h) + self.global_w if self.adaptive else self.global_w.expand(h.shape[0], 2)
        w = nn.functional.softplus(raw)
        return w[:, 0], w[:, 1]


class CouplingHead(nn.Module):
    """Pair representation -> (setting [P, 5] in [0, 1] of each allowed range, phase logits [P, N_PHASES])."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, hidden // 2), nn.GELU(), nn.Linear(hidden // 2, len(CONTINUOUS) + N_PHASES))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self.net(h)
        return torch.sigmoid(raw[:, : len(CONTINUOUS)]), raw[:, len(CONTINUOUS) :]


class DualLayerCouplingNetwork(nn.Module):
    def __init__(
        self,
        inputs: str = "both",
        dim: int = 32,
        heads: int = 4,
        encoder_layers: int = 1,
        blocks: int = 1,
        ffn: bool = True,
        hidden: int = 128,
        dropout: float = 0.1,
        adaptive: bool = True,
        render_dropout: float = 0.0,
        render_predictor: bool = False,
        coupling_head: bool = False,
        coupling_detach: bool = True,
    ) -> None:
        super().__init__()
        self.inputs = check_inputs(inputs)
        self.config = dict(
            inputs=inputs,
            dim=dim,
            heads=heads,
            encoder_layers=encoder_layers,
            blocks=blocks,
            ffn=ffn,
            hidden=hidden,
            dropout=dropout,
            adaptive=adaptive,
            render_dropout=render_dropout,
            render_predictor=render_predictor,
            coupling_head=coupling_head,
            coupling_detach=coupling_detach,
        )
        self.encoder = PresetEncoder(inputs, dim, heads, encoder_layers, dropout, render_dropout, render_predictor)
        self.blocks = nn.ModuleList(CrossBlock(dim, heads, ffn, dropout) for _ in range(blocks))
        self.trunk = nn.Sequential(
            nn.Linear(3 * dim, hidden), nn.GELU(), FastDropout(dropout), nn.Linear(hidden, hidden), nn.GELU()
        )
        self.heads = nn.Linear(hidden, 3)  # score, S, T logits
        self.weights = AdaptiveWeightNetwork(hidden, adaptive)
        # The pair's coupling setting (aivj/contract/coupling.py): 5 coordinates in [0, 1] of their
        # ranges and logits over the phase shifts, from the same pair representation as the score.
        # Detached by default: with gradients into the trunk (setting_weight 1) pairwise accuracy fell from
        # 0.977 to 0.838 on test_unseen in a short run (docs/results.md), the phase cross-entropy outweighing the score.
        self.coupling = CouplingHead(hidden) if coupling_head else None
        self.coupling_detach = coupling_detach
        self.dim, self.n_tokens = dim, len(self.encoder.token_names)

    @property
    def token_names(self) -> list[str]:
        return self.encoder.token_names

    # ----- per preset ---------------------------------------------------------------------
    def encode_presets(self, static: torch.Tensor, render: torch.Tensor, has_render: torch.Tensor) -> torch.Tensor:
        """[N, 64], [N, 96], [N] -> cache [N, 2 (as FG, as BG), C]; each row depends on its preset alone."""
        return self._encode(static, render, has_render)[0]

    def _encode(self, static, render, has_render) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        tokens, aux, seen = self.encoder.tokens_and_aux(static, render, has_render)  # [N, 2, T, d]
        parts = [tokens.mean(2), tokens.flatten(2)]
        if self.blocks:
            qkv = [
                torch.stack([p.flatten(1) for p in self.blocks[0].project(tokens[:, layer], layer)], 1) for layer in (0, 1)
            ]  # per layer [N, 3, h*T*d_k]
            parts.append(torch.stack(qkv, 1).flatten(2))
        return torch.cat(parts, dim=-1), aux, seen

    def _unpack(self, enc: torch.Tensor, idx: torch.Tensor | None, layer: int | None, what: str) -> torch.Tensor:
        """Gather one part of the cache for the given presets, each part on its own so that it comes out
        contiguous (the attention's matmuls would otherwise copy it again). ``index_select`` copies the
        same rows as ``[idx]`` at half its CPU on these strided views (docs/benchmarks.md, "Pair scoring").
        ``idx`` and ``layer`` None: ``enc`` is already one layer's rows [N, C], and the parts are views."""
        d, t = self.dim, self.n_tokens
        rows = enc if layer is None else enc[:, layer]
        pick = (lambda x: x) if idx is None else (lambda x: x.index_select(0, idx))  # noqa: E731
        if what == "mean":
            return pick(rows[:, :d])
        if what == "tokens":
            return pick(rows[:, d : d + t * d]).unflatten(-1, (t, d))
        blk = self.blocks[0].fg_from_bg
        size, start = blk.heads * t * blk.d_k, d + t * d
        return tuple(
            pick(rows[:, start + i * size : start + (i + 1) * size]).unflatten(-1, (blk.heads, t, blk.d_k)) for i in range(3)
        )

    # ----- per pair -----------------------------------------------------------------------
    def score_pairs(
        self,
        enc: torch.Tensor,
        fg_idx: torch.Tensor,
        bg_idx: torch.Tensor,
        outputs: tuple[str, ...] | None = None,
        chunk: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Score (fg_idx, bg_idx) pairs from the cache. ``outputs`` names the outputs wanted (None: all;
        ("score",) skips the weight network). Pairs go through in chunks of ``chunk`` so that each
        chunk's intermediates stay in the CPU cache (3x faster at 10,000 pairs than one big batch in torch);
        by default 1,024, or 4,096 with the C attention, whose chunks hold no [P, h, 9, 9] logits (measured
        best of 512-10,000 for each: docs/benchmarks.md, "Pair scoring")."""
        if chunk is None:
            chunk = 4096 if len(self.blocks) == 1 and self._native_pairs(enc) else 1024
        if fg_idx.shape[0] > chunk and not torch.compiler.is_compiling():
            parts = [self.score_pairs(enc, f, b, outputs, chunk) for f, b in zip(fg_idx.split(chunk), bg_idx.split(chunk))]
            return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        f0, b0 = self._unpack(enc, fg_idx, 0, "mean"), self._unpack(enc, bg_idx, 1, "mean")
        if len(self.blocks) == 0:  # the no-attention ablation
            f, b = f0, b0
        elif len(self.blocks) == 1 and self._native_pairs(enc):  # Q, K, V read from the cache in C
            f, b = self._pooled_native(enc, fg_idx, bg_idx, f0, b0)
        elif len(self.blocks) == 1:  # fast path: Q, K, V from the cache
            fq, bq = self._unpack(enc, fg_idx, 0, "qkv"), self._unpack(enc, bg_idx, 1, "qkv")
            f, b = self.blocks[0].attend(f0.unsqueeze(1), fq, b0.unsqueeze(1), bq, pool=True)
        else:
            f, b = self._cross(self._unpack(enc, fg_idx, 0, "tokens"), self._unpack(enc, bg_idx, 1, "tokens"))
        return self._heads(f, b, f0, b0, outputs)

    def score_block(
        self,
        enc: torch.Tensor,
        fg_idx: torch.Tensor,
        bg_idx: torch.Tensor,
        outputs: tuple[str, ...] | None = None,
        tile: int = 4096,
    ) -> dict[str, torch.Tensor]:
        """Every FG of ``fg_idx`` [F] against every BG of ``bg_idx`` [B]: outputs [F, B], row f column b
        being ``score_pairs`` of the pair (fg_idx[f], bg_idx[b]); a pack's candidates. With the C attention
        the pairs go through ``score_pairs``; otherwise (and in the exported block.onnx) one block's
        attention is a GEMM per head (``pooled_attention_block``), in tiles of at most ``tile`` pairs
        (``block_tiles``)."""
        nf, nb = fg_idx.shape[0], bg_idx.shape[0]
        blk, d = (self.blocks[0] if len(self.blocks) == 1 else None), self.dim
        if (
            blk is None
            or self._native_pairs(enc)
            or not nf * nb
            or blk.fg_from_bg.keep_attention
            or blk.bg_from_fg.keep_attention
        ):
            out = self.score_pairs(enc, fg_idx.repeat_interleave(nb), bg_idx.repeat(nf), outputs)
            return {k: v.unflatten(0, (nf, nb)) for k, v in out.items()}
        if nf * nb > tile and not torch.compiler.is_compiling():
            fg_parts, bg_parts = block_tiles(nf, nb, tile)
            tiles = [
                [self.score_block(enc, f, b, outputs, tile) for b in bg_idx.tensor_split(bg_parts)]
                for f in fg_idx.tensor_split(fg_parts)
            ]
            return {k: torch.cat([torch.cat([t[k] for t in row], 1) for row in tiles]) for k in tiles[0][0]}
        # the block's rows first, then their parts: slicing a part out of the whole cache first (as _unpack
        # does for pairs, where the rows outnumber the presets) copies the whole pack's cache in onnxruntime
        fg_rows, bg_rows = enc.index_select(0, fg_idx)[:, 0], enc.index_select(0, bg_idx)[:, 1]
        f0, b0 = self._unpack(fg_rows, None, None, "mean"), self._unpack(bg_rows, None, None, "mean")
        (qf, kf, vf), (qb, kb, vb) = self._unpack(fg_rows, None, None, "qkv"), self._unpack(bg_rows, None, None, "qkv")
        f = blk.fg_from_bg.pooled_output(f0.unsqueeze(1), pooled_attention_block(qf, kb, vb))  # [F, B, d]
        b = blk.bg_from_fg.pooled_output(b0.unsqueeze(1), pooled_attention_block(qb, kf, vf)).transpose(0, 1)
        f0, b0 = f0.unsqueeze(1).expand(nf, nb, d), b0.unsqueeze(0).expand(nf, nb, d)
        out = self._heads(*(x.reshape(nf * nb, d) for x in (f, b, f0, b0)), outputs)
        return {k: v.unflatten(0, (nf, nb)) for k, v in out.items()}

    def _native_pairs(self, enc: torch.Tensor) -> bool:
        """Whether the C pair attention can stand in for the torch one: built, not switched off
        (AIVJ_PURE_PYTHON=1), a head small enough, no autograd, no attention map to keep, a float32 CPU cache."""
        blk, t = self.blocks[0], self.n_tokens
        return (
            _pair_attention is not None
            and not torch.compiler.is_compiling()
            and not pure_python_requested()  # read per call (the milk parser reads it at import)
            and t <= _pair_attention.MAX_TOKENS
            and t * blk.fg_from_bg.d_k <= _pair_attention.MAX_HEAD_SIZE
            and not torch.is_grad_enabled()
            and not (blk.fg_from_bg.keep_attention or blk.bg_from_fg.keep_attention)
            and enc.dtype == torch.float32
            and enc.device.type == "cpu"
        )

    def _pooled_native(self, enc, fg_idx, bg_idx, f0, b0) -> tuple[torch.Tensor, torch.Tensor]:
        blk = self.blocks[0]
        a, t = blk.fg_from_bg, self.n_tokens
        size, start = a.heads * t * a.d_k, self.dim + t * self.dim
        mixed_f = enc.new_empty((fg_idx.shape[0], a.heads * a.d_k))  # enc's float32 on the CPU, whatever torch's defaults
        mixed_b = torch.empty_like(mixed_f)
        idx = [i.to(torch.int64).contiguous().numpy() for i in (fg_idx, bg_idx)]
        _pair_attention.pooled(
            enc.contiguous().numpy(),
            *idx,
            mixed_f.numpy(),
            mixed_b.numpy(),
            a.heads,
            t,
            a.d_k,
            start,
            start + size,
            start + 2 * size,
        )
        return blk.fg_from_bg.pooled_output(f0, mixed_f), blk.bg_from_fg.pooled_output(b0, mixed_b)

    def _cross(self, fg: torch.Tensor, bg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """FG and BG tokens [P, T, d] through the cross blocks -> pooled [P, d] each."""
        for block in self.blocks[:-1]:
            fg, bg = block(fg, bg)
        return self.blocks[-1](fg, bg, pool=True)

    def _heads(self, f, b, f0, b0, outputs: tuple[str, ...] | None = None) -> dict[str, torch.Tensor]:
        h = self.trunk(torch.cat([f, b, f * b], dim=-1))
        logits = self.heads(h)
        out = {"score": 5 * torch.sigmoid(logits[:, 0])}
        if outputs is not None and set(outputs) <= {"score"}:
            return out
        s, t = torch.sigmoid(logits[:, 1]), torch.sigmoid(logits[:, 2])
        w_s, w_t = self.weights(h)
        bias = self.weights.bias.expand_as(s)
        out.update(
            {
                "spatial": s,
                "temporal": t,
                "w_s": w_s,
                "w_t": w_t,
                "rank_bias": bias,
                "rank": torch.sigmoid(w_s * s + w_t * t + bias),
                "f_fg": f0,
                "f_bg": b0,
            }
        )
        if self.coupling is not None:
            out["coupling"], out["coupling_phase_logits"] = self.coupling(h.detach() if self.coupling_detach else h)
        return out if outputs is None else {k: out[k] for k in outputs}

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        """Training and evaluation: each preset encoded only as the layer it plays, no cache gathers."""
        (sf, rf, hf), (sb, rb, hb) = side_tensors(batch, "fg"), side_tensors(batch, "bg")
        n = sf.shape[0]
        # n FG rows, then n BG rows; not arange(2).repeat_interleave(n), which the ONNX exporter turns into an
        # Expand to the example batch's size (aivj export onnx failed on any other batch size)
        layers = torch.cat([sf.new_zeros(n, dtype=torch.long), sf.new_ones(n, dtype=torch.long)])
        tokens, aux, seen = self.encoder.tokens_and_aux(torch.cat([sf, sb]), torch.cat([rf, rb]), torch.cat([hf, hb]), layers)
        fg, bg = tokens[:n], tokens[n:]
        f0, b0 = fg.mean(1), bg.mean(1)
        f, b = (f0, b0) if len(self.blocks) == 0 else self._cross(fg, bg)
        out = self._heads(f, b, f0, b0)
        out["unrendered_layers"] = 2 - seen[:n] - seen[n:]  # 0, 1 or 2 per pair, after render dropout
        if aux is not None:
            out["render_aux"] = aux  # a scalar: the render predictor's loss over this batch's rendered presets
        return out

    def attention_modules(self) -> dict[str, ResidualAttention]:
        """Named cross-attention modules, for attention-map images."""
        out = {}
        for i, block in enumerate(self.blocks):
            out[f"block{i}/fg_from_bg"], out[f"block{i}/bg_from_fg"] = block.fg_from_bg, block.bg_from_fg
        return out
