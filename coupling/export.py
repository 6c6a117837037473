"""ONNX export of DualLayerCouplingNetwork as two graphs: the preset encoder and the pair scorer.

``encoder.onnx``: (static [N, 64], render [N, 96], has_render [N]) -> cache [N, 2, C]
``pairs.onnx``:   (cache [N, 2, C], fg_idx [P], bg_idx [P]) -> score [P], spatial [P], temporal [P]
N and P are dynamic (torch.export dynamic shapes; the dynamo exporter keeps attention shapes dynamic).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from coupling.nets.coupling_net import DualLayerCouplingNetwork

PAIR_OUTPUTS = ("score", "spatial", "temporal")


class _Encoder(nn.Module):
    def __init__(self, net: DualLayerCouplingNetwork) -> None:
        super().__init__()
        self.net = net

    def forward(self, static, render, has_render):
        return self.net.encode_presets(static, render, has_render)


class _Pairs(nn.Module):
    def __init__(self, net: DualLayerCouplingNetwork) -> None:
        super().__init__()
        self.net = net

    def forward(self, enc, fg_idx, bg_idx):
        out = self.net.score_pairs(enc, fg_idx, bg_idx)
        return tuple(out[k] for k in PAIR_OUTPUTS)


def export_onnx(net: DualLayerCouplingNetwork, out_dir: str | Path) -> tuple[Path, Path]:
    """Writes encoder.onnx and pairs.onnx under out_dir; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    net = net.eval()
    n, p = 7, 11  # example sizes, different so the exporter cannot confuse the two dims
    static, render, has = torch.randn(n, 64), torch.rand(n, 96), torch.ones(n)
    enc = net.encode_presets(static, render, has)
    fg, bg = torch.randint(0, n, (p,)), torch.randint(0, n, (p,))
    N, P = torch.export.Dim("presets", min=2), torch.export.Dim("pairs", min=2)
    enc_path, pair_path = out_dir / "encoder.onnx", out_dir / "pairs.onnx"
    torch.onnx.export(_Encoder(net), (static, render, has), enc_path, dynamo=True, external_data=False,
                      input_names=["static", "render", "has_render"], output_names=["cache"],
                      dynamic_shapes=({0: N}, {0: N}, {0: N}))
    torch.onnx.export(_Pairs(net), (enc, fg, bg), pair_path, dynamo=True, external_data=False,
                      input_names=["cache", "fg_idx", "bg_idx"], output_names=list(PAIR_OUTPUTS),
                      dynamic_shapes=({0: N}, {0: P}, {0: P}))
    return enc_path, pair_path
