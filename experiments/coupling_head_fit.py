"""Fit a trained model's coupling head alone on the pairs with coupling targets (the rest frozen).

    .venv/bin/python -m experiments.coupling_head_fit --ckpt RUN/checkpoints/last.ckpt [--data DIR] [--epochs 400]

In a joint run only ~2% of a batch has targets (the searched subset), so the head sees each target
about once an epoch. Here the trunk's pair representation of every searched train / val pair is
computed once (render path, eval mode) and the head is trained on it full-batch, keeping the epoch
with the lowest validation loss; the checkpoint is written beside the input as ``head_fit.ckpt``
(``experiments/coupling_eval.py`` reads it through ``load_scorer``). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from aivj.home import state_dir
from aivj.inference import load_scorer
from aivj.inference.checkpoint import read_checkpoint
from coupling.losses import setting_loss
from coupling.setting_metrics import setting_metrics
from datamodules.pairs import PresetTable, load_splits


@torch.no_grad()
def representations(net, split) -> dict[str, torch.Tensor]:
    """The trunk's output and the targets of the split's pairs that have targets."""
    rows = np.flatnonzero(split.cols["coupling_phase"] >= 0)
    batch = split.__getitems__(rows.tolist())
    seen = {}
    hook = net.trunk.register_forward_hook(lambda m, i, o: seen.__setitem__("h", o))
    net(batch)
    hook.remove()
    return {"h": seen["h"], "coupling_target": batch["coupling_target"], "coupling_phase": batch["coupling_phase"]}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt", type=Path, required=True)
    p.add_argument("--data", type=Path, default=state_dir("cache") / "coupling" / "default")
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--lr", type=float, default=3e-3)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    scorer = load_scorer(str(args.ckpt))
    net = scorer.net.eval()
    splits = load_splits(args.data, PresetTable.load(args.data), ["train", "val"])
    train, val = representations(net, splits["train"]), representations(net, splits["val"])
    head = net.coupling
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=0.01)

    def loss_of(d):
        setting, phase = setting_loss(dict(zip(("coupling", "coupling_phase_logits"), head(d["h"]))), d)
        return setting + phase

    best, best_state = float("inf"), None
    for _ in range(args.epochs):
        head.train()
        opt.zero_grad()
        loss_of(train).backward()
        opt.step()
        head.eval()
        with torch.no_grad():
            v = float(loss_of(val))
        if v < best:
            best, best_state = v, {k: t.clone() for k, t in head.state_dict().items()}
    head.load_state_dict(best_state)
    with torch.no_grad():
        figs, n = setting_metrics(dict(zip(("coupling", "coupling_phase_logits"), head(val["h"]))), val)
    ckpt = read_checkpoint(args.ckpt)
    ckpt["state_dict"].update({f"net.coupling.{k}": v for k, v in head.state_dict().items()})
    out = args.ckpt.with_name("head_fit.ckpt")
    torch.save(ckpt, out)
    print(
        json.dumps(
            {"out": str(out), "train_pairs": len(train["h"]), "val_pairs": n, "val_loss": round(best, 4)}
            | {f"val_{k}": round(float(v), 3) for k, v in figs.items()}
        )
    )


if __name__ == "__main__":
    main()
