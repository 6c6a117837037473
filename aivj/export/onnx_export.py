"""The network as ONNX (dynamo exporter, dynamic batch), checked against onnxruntime.

Inputs (float32): fg_static, bg_static [B, 64], fg_render, bg_render [B, 96], fg_has_render,
bg_has_render [B] (1.0 = rendered). Output: score [B] in 0-5. ``export_onnx`` fails when the
onnxruntime result on a batch of another size differs from torch by ``max_abs_diff`` or more.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from aivj.contract.schema import FEATURE_DIM, RENDER_DIM

INPUTS = ("fg_static", "bg_static", "fg_render", "bg_render", "fg_has_render", "bg_has_render")


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
    return (torch.randn(n, FEATURE_DIM, generator=g), torch.randn(n, FEATURE_DIM, generator=g),
            torch.rand(n, RENDER_DIM, generator=g) * has[0, :, None], torch.rand(n, RENDER_DIM, generator=g) * has[1, :, None],
            has[0], has[1])


def export_onnx(model, out: Path, max_abs_diff: float = 1e-4) -> dict:
    import onnxruntime as ort

    graph = ScoreGraph(getattr(model, "net", model)).eval()
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    shapes = {name: {0: batch} for name in INPUTS}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with torch.no_grad():
        program = torch.onnx.export(graph, example_inputs(4), dynamo=True, dynamic_shapes=shapes,
                                    input_names=list(INPUTS), output_names=["score"])
    program.save(str(tmp))
    check = example_inputs(7, seed=1)  # another batch size than the export's
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    got = session.run(["score"], {k: v.numpy() for k, v in zip(INPUTS, check)})[0]
    with torch.no_grad():
        want = graph(*check).numpy()
    diff = float(np.abs(got - want).max())
    if not diff < max_abs_diff:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"{out}: onnxruntime differs from torch by {diff:.3g} (limit {max_abs_diff:g})")
    tmp.replace(out)
    return {"path": str(out), "max_abs_diff": diff, "batch_checked": 7}


def benchmark(model, onnx_path: Path, pairs: int = 10_000, batch: int = 1000, repeats: int = 20) -> dict:
    """Time to score all ``pairs`` in batches of ``batch`` (p50/p99 over repeats, ms) and pairs/s, torch vs onnxruntime."""
    import onnxruntime as ort

    graph = ScoreGraph(getattr(model, "net", model)).eval()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    data = example_inputs(pairs, seed=2)
    chunks = [tuple(t[i:i + batch] for t in data) for i in range(0, pairs, batch)]
    results = {}
    for name, run in (("torch", lambda c: graph(*c)),
                      ("onnxruntime", lambda c: session.run(["score"], {k: v.numpy() for k, v in zip(INPUTS, c)}))):
        times = []
        with torch.no_grad():
            run(chunks[0])  # warm-up
            for _ in range(repeats):
                start = time.perf_counter()
                for c in chunks:
                    run(c)
                times.append(time.perf_counter() - start)
        t = np.asarray(times)
        results[name] = {"p50_ms": float(np.percentile(t, 50) * 1e3), "p99_ms": float(np.percentile(t, 99) * 1e3),
                         "pairs_per_s": float(pairs / np.median(t))}
    return {"pairs": pairs, "batch": batch, "repeats": repeats, **results}
