"""Attention maps as TensorBoard images: one grey-level grid per head, rows = query tokens of one
layer, columns = key tokens of the other (token order: net.token_names, logged as text once)."""

from __future__ import annotations

import torch


def attention_grid(maps: torch.Tensor, cell: int = 12) -> torch.Tensor:
    """[heads, Tq, Tk] weights in [0, 1] -> [1, Tq*cell, heads*(Tk*cell + 2)] image, heads side by side."""
    maps = maps / maps.amax(dim=(-1, -2), keepdim=True).clamp(min=1e-8)  # each head scaled to its max
    big = maps.repeat_interleave(cell, -2).repeat_interleave(cell, -1)  # [h, H, W]
    gap = torch.ones(big.shape[0], big.shape[1], 2)  # white separators between heads
    return torch.cat([torch.cat([b, g], -1) for b, g in zip(big, gap)], -1).unsqueeze(0)


@torch.no_grad()
def log_attention_images(net, batch: dict, experiment, step: int) -> int:
    """Runs ``net`` on ``batch`` keeping its cross-attention maps; writes one image per module.

    ``experiment`` is a torch SummaryWriter. Returns the number of images written.
    """
    modules = net.attention_modules()
    was_training = net.training
    net.eval()
    for m in modules.values():
        m.keep_attention = True
    try:
        net(batch)
    finally:
        for m in modules.values():
            m.keep_attention = False
        net.train(was_training)
    written = 0
    for name, m in modules.items():
        if m.last_attention is not None:
            experiment.add_image(f"attention/{name}", attention_grid(m.last_attention.float().mean(0).cpu()), step)
            m.last_attention, written = None, written + 1
    if written and step == 0:
        experiment.add_text("attention/tokens", ", ".join(net.token_names), step)
    return written
