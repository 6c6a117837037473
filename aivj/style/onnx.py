"""The style model as ONNX for onnxruntime-web: dynamic batch, parity with PyTorch checked on another batch size.

Graph inputs: ``mel`` float32 [B, n_mels, window_frames] (dB, aivj/style/features.py) and, for a
model trained with live features, ``live`` float32 [B, LIVE_DIM]; output ``probs`` [B, labels]. The
front end the browser computes first is written beside it as ``<name>.frontend.json``: the feature
spec, the labels, the live feature names and the mel filterbank (per band: first FFT bin, weights).
Same exporter as the coupling model's (aivj/inference/onnx.py: dynamo, ``atomic_path``, an
onnxruntime check); the graphs differ, so the wrapper is this one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from aivj.contract.atomic import atomic_path, write_json_atomic
from aivj.style.features import LIVE_DIM, LIVE_NAMES, FeatureSpec


class ProbsGraph(nn.Module):
    def __init__(self, net: nn.Module, use_live: bool) -> None:
        super().__init__()
        self.net, self.use_live = net, use_live

    def forward(self, mel: torch.Tensor, live: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(mel, live if self.use_live else None).softmax(-1)


def example_inputs(spec: FeatureSpec, n: int, use_live: bool, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    mel = torch.randn(n, spec.n_mels, spec.window_frames, generator=g) * 12 - 40
    return (mel, torch.rand(n, LIVE_DIM, generator=g)) if use_live else (mel,)


def frontend(spec: FeatureSpec, labels: list[str]) -> dict:
    filters = spec.mel_filters()
    bands = []
    for row in filters:
        nz = np.flatnonzero(row)
        bands.append({"first_bin": int(nz[0]), "weights": [round(float(w), 8) for w in row[nz[0] : nz[-1] + 1]]})
    return {
        "format": "aivj-style-frontend.v1",
        "spec": spec.asdict(),
        "labels": labels,
        "live_features": list(LIVE_NAMES),
        "mel": bands,
    }


def export_style_onnx(model, out: str | Path, max_abs_diff: float = 1e-4) -> dict:
    import onnxruntime as ort

    out = Path(out)
    spec, labels, use_live = FeatureSpec(**model.hparams.spec), list(model.hparams.labels), bool(model.hparams.use_live)
    graph = ProbsGraph(model.net, use_live).eval()
    names = ["mel", "live"] if use_live else ["mel"]
    batch = torch.export.Dim("batch", min=1, max=4096)
    shapes = tuple({0: batch} for _ in names)
    with torch.no_grad():
        program = torch.onnx.export(
            graph,
            example_inputs(spec, 4, use_live),
            dynamo=True,
            dynamic_shapes=shapes,
            input_names=names,
            output_names=["probs"],
        )
    with atomic_path(out, suffix=".onnx") as tmp:
        program.save(str(tmp))
        check = example_inputs(spec, 5, use_live, seed=1)  # another batch size than the export's
        session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        got = session.run(["probs"], {k: v.numpy() for k, v in zip(names, check)})[0]
        with torch.no_grad():
            want = graph(*check).numpy()
        diff = float(np.abs(got - want).max())
        if not diff < max_abs_diff:
            raise RuntimeError(f"{out}: onnxruntime differs from torch by {diff:.3g} (limit {max_abs_diff:g})")
    sidecar = out.with_suffix(".frontend.json")
    write_json_atomic(frontend(spec, labels), sidecar)
    return {
        "path": str(out),
        "frontend": str(sidecar),
        "inputs": names,
        "max_abs_diff": diff,
        "batch_checked": 5,
        "size_kb": round(out.stat().st_size / 1024, 1),
        "labels": json.dumps(labels),
    }
