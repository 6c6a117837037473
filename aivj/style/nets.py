"""The style networks: a small CNN over a log-mel window, then an LSTM over its time axis (or a pooled head).

Input: log-mel [B, n_mels, frames] in dB (aivj/style/features.py) and, optionally, the live
features [B, LIVE_DIM]. Output: logits [B, n_labels]. The window's mean is removed inside the
network, so a louder copy of a track gets the same answer and the browser needs no reference level.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(c_in: int, c_out: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(pool))


class StyleNet(nn.Module):
    """``arch``: "cnn_lstm" (CNN, then an LSTM over time) or "cnn" (CNN, then global average pooling)."""

    def __init__(
        self,
        n_labels: int,
        n_mels: int = 64,
        arch: str = "cnn_lstm",
        channels: tuple[int, ...] = (16, 32, 48),
        hidden: int = 64,
        live_dim: int = 0,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if arch not in ("cnn_lstm", "cnn"):
            raise ValueError(f"arch must be cnn_lstm or cnn, got {arch!r}")
        self.arch, self.live_dim = arch, live_dim
        chans = (1, *channels)
        self.conv = nn.Sequential(*(_block(a, b, (2, 2)) for a, b in zip(chans[:-1], chans[1:])))
        freq = n_mels // 2 ** len(channels)
        if arch == "cnn_lstm":
            self.project = nn.Linear(channels[-1] * freq, hidden)
            self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
            width = 2 * hidden
        else:
            width = channels[-1]
        if live_dim:
            self.live = nn.Sequential(nn.BatchNorm1d(live_dim), nn.Linear(live_dim, 32), nn.ReLU())
            width += 32
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, n_labels))

    def embed(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel - mel.mean(dim=(1, 2), keepdim=True)  # gain invariance: a window's level says little about its style
        x = self.conv((x / 20.0).unsqueeze(1))  # [B, C, F', T']
        if self.arch == "cnn":
            return x.mean(dim=(2, 3))
        seq = self.project(x.flatten(1, 2).transpose(1, 2))  # [B, T', hidden]
        out, _ = self.lstm(torch.relu(seq))
        return torch.cat([out.mean(dim=1), out[:, -1]], dim=1)

    def forward(self, mel: torch.Tensor, live: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed(mel)
        if self.live_dim:
            x = torch.cat([x, self.live(live)], dim=1)
        return self.head(x)
