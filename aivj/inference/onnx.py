"""The network as ONNX (dynamo exporter, dynamic shapes): the project's one exporter, two graph forms.

``export_onnx``: one graph for whole pairs. Inputs (float32) ``MODEL_INPUTS`` of aivj/contract/batch.py:
fg_static, bg_static [B, 64], fg_render, bg_render [B, 96], fg_has_render, bg_has_render [B]
(1.0 = rendered). Output: score [B] in 0-5. It fails when the onnxruntime result on a batch of
another size differs from torch by ``max_abs_diff`` or more.

``export_split_onnx``: a net with a preset cache (DualLayerCouplingNetwork) as two graphs, what a
scorer of many pairs over few presets runs: ``encoder.onnx`` (static [N, 64], render [N, 96],
has_render [N]) -> cache [N, 2, C]; ``pairs.onnx`` (cache, fg_idx [P], bg_idx [P]) -> score,
spatial, temporal [P]. N and P are dynamic.

``export_block_onnx``: ``block.onnx`` (cache, fg_idx [F], bg_idx [B]) -> score, spatial, temporal [F, B],
every FG against every BG (a pack's candidates) with the attention as one GEMM per head
(``DualLayerCouplingNetwork.score_block``); ``score_block_onnx`` runs it in tiles. 10,000 candidates take
~3x less time than as 10,000 pairs through pairs.onnx (docs/benchmarks.md, "Pair scoring").
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from aivj.contract.atomic import atomic_path
from aivj.contract.batch import MODEL_INPUTS as INPUTS
from aivj.contract.schema import FEATURE_DIM, RENDER_DIM

PAIR_OUTPUTS = ("score", "spatial", "temporal")


class ScoreGraph(nn.Module):
    """Positional inputs for export; calls the net with the batch dict it expects."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, fg_static, bg_static, fg_render, bg_render, fg_has_render, bg_has_render):
        batch = dict(zip(INPUTS, (fg_static, bg_static, fg_render, bg_render, fg_has_render, bg_has_render)))
        return self.net(batch)["score"]


def example_inputs(n: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    has = (torch.rand(2, n, generator=g) < 0.5).float()
    return (
        torch.randn(n, FEATURE_DIM, generator=g),
        torch.randn(n, FEATURE_DIM, generator=g),
        torch.rand(n, RENDER_DIM, generator=g) * has[0, :, None],
        torch.rand(n, RENDER_DIM, generator=g) * has[1, :, None],
        has[0],
        has[1],
    )


def export_onnx(model, out: Path, max_abs_diff: float = 1e-4) -> dict:
    import onnxruntime as ort

    graph = ScoreGraph(getattr(model, "net", model)).eval()
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    shapes = {name: {0: batch} for name in INPUTS}
    out = Path(out)
    with torch.no_grad():
        program = torch.onnx.export(
            graph, example_inputs(4), dynamo=True, dynamic_shapes=shapes, input_names=list(INPUTS), output_names=["score"]
        )
    with atomic_path(out, suffix=".onnx") as tmp:
        program.save(str(tmp))
        check = example_inputs(7, seed=1)  # another batch size than the export's
        session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        got = session.run(["score"], {k: v.numpy() for k, v in zip(INPUTS, check)})[0]
        with torch.no_grad():
            want = graph(*check).numpy()
        diff = float(np.abs(got - want).max())
        if not diff < max_abs_diff:
            raise RuntimeError(f"{out}: onnxruntime differs from torch by {diff:.3g} (limit {max_abs_diff:g})")
    return {"path": str(out), "max_abs_diff": diff, "batch_checked": 7}


class _Encoder(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, static, render, has_render):
        return self.net.encode_presets(static, render, has_render)


class _Pairs(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, enc, fg_idx, bg_idx):
        out = self.net.score_pairs(enc, fg_idx, bg_idx)
        return tuple(out[k] for k in PAIR_OUTPUTS)


class _Block(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, enc, fg_idx, bg_idx):
        out = self.net.score_block(enc, fg_idx, bg_idx, PAIR_OUTPUTS)
        return tuple(out[k] for k in PAIR_OUTPUTS)


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], shapes: tuple, check=None) -> Path:
    """torch.onnx.export to ``path`` atomically; ``check(tmp_path)`` runs on the written file before it lands."""
    module.eval()  # the wrapper too: a module in training mode makes the exporter warn
    with atomic_path(path, suffix=".onnx") as tmp:
        torch.onnx.export(
            module, args, tmp, dynamo=True, external_data=False, input_names=inputs, output_names=outputs, dynamic_shapes=shapes
        )
        if check is not None:
            check(tmp)
    return path


def _example_cache(net: nn.Module, n: int = 7) -> torch.Tensor:
    return net.encode_presets(torch.randn(n, FEATURE_DIM), torch.rand(n, RENDER_DIM), torch.ones(n))


def export_split_onnx(net: nn.Module, out_dir: str | Path) -> tuple[Path, Path]:
    """Writes encoder.onnx and pairs.onnx under out_dir; returns their paths."""
    out_dir = Path(out_dir)
    net = net.eval()
    n, p = 7, 11  # example sizes, different so the exporter cannot confuse the two dims
    static, render, has = torch.randn(n, FEATURE_DIM), torch.rand(n, RENDER_DIM), torch.ones(n)
    fg, bg = torch.randint(0, n, (p,)), torch.randint(0, n, (p,))
    N, P = torch.export.Dim("presets", min=2), torch.export.Dim("pairs", min=2)
    enc_path = _export(
        _Encoder(net), (static, render, has), out_dir / "encoder.onnx", ["static", "render", "has_render"], ["cache"],
        ({0: N}, {0: N}, {0: N}),
    )  # fmt: skip
    pair_path = _export(
        _Pairs(net), (_example_cache(net, n), fg, bg), out_dir / "pairs.onnx", ["cache", "fg_idx", "bg_idx"],
        list(PAIR_OUTPUTS), ({0: N}, {0: P}, {0: P}),
    )  # fmt: skip
    return enc_path, pair_path


def check_block_net(net: nn.Module) -> None:
    """ValueError unless ``net`` has what block.onnx exports: a preset cache and one cross-attention block."""
    if not hasattr(net, "score_block"):
        raise ValueError(f"{type(net).__name__} scores whole pairs (no preset cache): the cached graphs need the coupling net")
    if len(net.blocks) != 1:
        raise ValueError(f"block.onnx needs one cross-attention block (the default); this net has {len(net.blocks)}")


def export_block_onnx(net: nn.Module, out_dir: str | Path) -> Path:
    """Writes block.onnx (every FG against every BG, outputs [F, B]) under out_dir; returns its path."""
    check_block_net(net)
    net = net.eval()
    N, F, B = (torch.export.Dim(name, min=2) for name in ("presets", "fg", "bg"))
    path = Path(out_dir) / "block.onnx"

    def check(tmp: Path) -> None:  # another cache and block size than the export's, against score_pairs
        import onnxruntime as ort

        with torch.no_grad():
            cache = _example_cache(net, 11)
            fg, bg = torch.tensor([3, 1, 4, 1, 5]), torch.tensor([9, 2, 6, 5, 3, 5, 8])
            want = net.score_pairs(cache, fg.repeat_interleave(len(bg)), bg.repeat(len(fg)), PAIR_OUTPUTS)
        session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        got = score_block_onnx(session, cache.numpy(), fg.numpy(), bg.numpy(), tile=8)  # several tiles, unequal
        diff = max(float(np.abs(got[k].reshape(-1) - want[k].numpy()).max()) for k in PAIR_OUTPUTS)
        if not diff < 1e-4:
            raise RuntimeError(f"{path}: onnxruntime's block outputs differ from torch by {diff:.3g} (limit 1e-4)")

    return _export(
        _Block(net), (_example_cache(net, 7), torch.tensor([0, 2, 4]), torch.tensor([1, 3, 5, 6, 0])),
        path, ["cache", "fg_idx", "bg_idx"], list(PAIR_OUTPUTS), ({0: N}, {0: F}, {0: B}), check,
    )  # fmt: skip


def score_block_onnx(session, cache: np.ndarray, fg_idx, bg_idx, tile: int = 4096) -> dict[str, np.ndarray]:
    """block.onnx over every (fg_idx[f], bg_idx[b]) in the tiles of ``block_tiles`` -> {output: [F, B]}."""
    from coupling.nets.coupling_net import block_tiles

    cache = np.ascontiguousarray(cache, np.float32)
    fg, bg = np.asarray(fg_idx, np.int64), np.asarray(bg_idx, np.int64)
    for name, idx in (("fg_idx", fg), ("bg_idx", bg)):
        if idx.size and not (0 <= idx.min() and idx.max() < len(cache)):
            raise ValueError(f"{name}: indices must lie in [0, {len(cache)}) (the cache's presets), got {idx.min()}..{idx.max()}")
    fg_parts, bg_parts = block_tiles(len(fg), len(bg), tile)
    out = {k: np.empty((len(fg), len(bg)), np.float32) for k in PAIR_OUTPUTS}
    i = 0
    for f in np.array_split(fg, fg_parts):
        j = 0
        for b in np.array_split(bg, bg_parts):
            if len(f) and len(b):
                got = session.run(list(PAIR_OUTPUTS), {"cache": cache, "fg_idx": f, "bg_idx": b})
                for k, v in zip(PAIR_OUTPUTS, got):
                    out[k][i : i + len(f), j : j + len(b)] = v
            j += len(b)
        i += len(f)
    return out


def benchmark(model, onnx_path: Path, pairs: int = 10_000, batch: int = 1000, repeats: int = 20) -> dict:
    """Time to score all ``pairs`` in batches of ``batch`` (p50/p99 over repeats, ms) and pairs/s, torch vs onnxruntime."""
    import onnxruntime as ort

    graph = ScoreGraph(getattr(model, "net", model)).eval()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    data = example_inputs(pairs, seed=2)
    chunks = [tuple(t[i : i + batch] for t in data) for i in range(0, pairs, batch)]
    results = {}
    for name, run in (
        ("torch", lambda c: graph(*c)),
        ("onnxruntime", lambda c: session.run(["score"], {k: v.numpy() for k, v in zip(INPUTS, c)})),
    ):
        times = []
        with torch.no_grad():
            run(chunks[0])  # warm-up
            for _ in range(repeats):
                start = time.perf_counter()
                for c in chunks:
                    run(c)
                times.append(time.perf_counter() - start)
        t = np.asarray(times)
        results[name] = {
            "p50_ms": float(np.percentile(t, 50) * 1e3),
            "p99_ms": float(np.percentile(t, 99) * 1e3),
            "pairs_per_s": float(pairs / np.median(t)),
        }
    return {"pairs": pairs, "batch": batch, "repeats": repeats, **results}
