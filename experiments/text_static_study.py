"""Can a preset's text predict its render well enough to rank pairs? (issue 12, "a static model that generalises")

Pretrains the text encoder (experiments/text_encoder.py) on the rendered presets of the training
role of a dataset (every one a labelled example: text -> its 96 render descriptors), then measures,
on held-out presets (test_unseen, twin-free by construction):
  (a) per-preset R^2 of four render-summary values, against trees on the 64 hand features;
  (b) pairwise accuracy of the shipped champion's render path fed the *predicted* descriptors
      (two-stage), against the champion's own static path, on test_unseen and golden pairs.

    .venv/bin/python experiments/text_static_study.py [--data data/default] [--epochs 30] [--out build/text_study]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import torch
from sklearn.ensemble import HistGradientBoostingRegressor

from aivj.export.pack_export import agreement
from aivj.milk.parser import parse_milk
from aivj.milk.tokens import MAX_TOKENS, pad_batch, tokenize_entries
from aivj.refinery.cache import default_root
from aivj.refinery.descriptors import SUMMARY_NAMES
from experiments.static_features_study import r2
from experiments.text_encoder import TextDescriptorNet

TARGETS = ("mean_luma", "motion", "vitality", "colourfulness")


def preset_paths(cache_root: Path) -> dict[str, Path]:
    out = {}
    for status in sorted(cache_root.glob("techno-128px-*/status.jsonl")):
        for line in status.read_text().splitlines():
            row = json.loads(line)
            if row.get("path") and Path(row["path"]).exists():
                out.setdefault(row["id"], Path(row["path"]))
    return out


def train_text(tok, static, Y, train_idx, val_idx, epochs: int, seed: int, batch: int = 64, lr: float = 2e-3):
    torch.manual_seed(seed)
    ids, vals, secs = (torch.from_numpy(a) for a in tok)
    S, T = torch.from_numpy(static), torch.from_numpy(Y)
    net = TextDescriptorNet(out_dim=Y.shape[1])
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(train_idx) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        net.train()
        t0, total = time.time(), 0.0
        for b in np.array_split(rng.permutation(train_idx), max(1, len(train_idx) // batch)):
            b = torch.from_numpy(b)
            loss = torch.nn.functional.mse_loss(net(ids[b], vals[b], secs[b], S[b]), T[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(b)
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(
                f"  epoch {epoch + 1}: train mse {total / len(train_idx):.3f}  val mse {mse(net, tok, static, Y, val_idx):.3f}  ({time.time() - t0:.0f} s)",
                flush=True,
            )
    return net


@torch.no_grad()
def predict(net, tok, static, rows) -> np.ndarray:
    net.eval()
    out = [
        net(*(torch.from_numpy(a[c]) for a in tok), torch.from_numpy(static[c]))
        for c in np.array_split(rows, max(1, len(rows) // 256))
    ]
    return torch.cat(out).numpy()


def mse(net, tok, static, Y, rows) -> float:
    return float(((predict(net, tok, static, rows) - Y[rows]) ** 2).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/default")
    ap.add_argument("--cache", default=str(default_root()), help="the frame cache root (read only)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=None, help="registry version or checkpoint for the two-stage rows (default: the champion)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    table = pq.read_table(Path(args.data) / "presets.parquet").to_pylist()
    table = [r for r in table if r["render_summary"] is not None]
    paths = preset_paths(Path(args.cache))
    table = [r for r in table if r["preset_id"] in paths]
    ids = [r["preset_id"] for r in table]
    row_of = {p: i for i, p in enumerate(ids)}
    t0 = time.time()
    tok = pad_batch([tokenize_entries(parse_milk(paths[p].read_bytes(), str(paths[p])).entries()) for p in ids], MAX_TOKENS)
    lengths = (tok[0] != 0).sum(1)
    print(
        f"{len(ids)} rendered presets with files; tokenised in {time.time() - t0:.1f} s; tokens per preset median {np.median(lengths):.0f}, max {lengths.max()}"
    )
    static = np.stack([r["features"] for r in table]).astype(np.float32)
    render = np.hstack([np.stack([r[c] for r in table]) for c in ("render_summary", "render_layout", "render_motion")]).astype(
        np.float32
    )

    pairs = (
        pads.dataset(Path(args.data) / "pairs", partitioning="hive")
        .to_table(columns=["fg_id", "bg_id", "score", "split"])
        .to_pandas()
    )
    pairs = pairs[pairs.fg_id.isin(row_of) & pairs.bg_id.isin(row_of)]
    role = {}
    for split in ("train", "val", "test_unseen", "golden"):
        part = pairs[pairs.split == split]
        role[split] = np.array(sorted({row_of[i] for i in set(part.fg_id) | set(part.bg_id)}))
    held = set(role["test_unseen"]) | set(role["golden"])
    train_idx = np.array([i for i in role["train"] if i not in held])
    val_idx = (
        np.array([i for i in role["val"] if i not in held and i not in set(train_idx)]) if len(role["val"]) else train_idx[:200]
    )
    if len(val_idx) < 50:
        val_idx = train_idx[-300:]
        train_idx = train_idx[:-300]
    test_idx = role["test_unseen"]
    mu, sd = render[train_idx].mean(0), render[train_idx].std(0) + 1e-6
    Y = ((render - mu) / sd).astype(np.float32)
    print(f"presets: train {len(train_idx)}, val {len(val_idx)}, test_unseen {len(test_idx)}, golden {len(role['golden'])}")

    net = train_text(tok, static, Y, train_idx, val_idx, args.epochs, args.seed)
    pred = predict(net, tok, static, np.arange(len(ids))) * sd + mu

    print("\n(a) R^2 on test_unseen presets")
    print("| inputs | " + " | ".join(TARGETS) + " |")
    trees = []
    for t in TARGETS:
        k = SUMMARY_NAMES.index(t)
        m = HistGradientBoostingRegressor(max_iter=300, random_state=0).fit(static[train_idx], render[train_idx, k])
        trees.append(r2(render[test_idx, k], m.predict(static[test_idx])))
    print("| trees, 64 static | " + " | ".join(f"{v:.3f}" for v in trees) + " |")
    print(
        "| text encoder | "
        + " | ".join(
            f"{r2(render[test_idx, SUMMARY_NAMES.index(t)], pred[test_idx, SUMMARY_NAMES.index(t)]):.3f}" for t in TARGETS
        )
        + " |"
    )

    from aivj.inference.loading import load_model
    from aivj.inference.scorer import score_presets

    model, label = load_model(args.model)
    torch.set_num_threads(args.threads)
    print(f"\n(b) pairwise accuracy, model {label}")
    ones = np.ones(len(ids), np.float32)
    print("| pairs | n | champion static path | two-stage: text -> descriptors -> render path | true descriptors (ceiling) |")
    for split in ("test_unseen", "golden", "test_seen"):
        part = pairs[pairs.split == split]
        if not len(part):
            continue
        fg, bg = part.fg_id.map(row_of).to_numpy(), part.bg_id.map(row_of).to_numpy()
        y = part.score.to_numpy()
        cols = [
            score_presets(model, static, fg, bg),
            score_presets(model, static, fg, bg, pred, ones),
            score_presets(model, static, fg, bg, render, ones),
        ]
        print(
            f"| {split} | {len(part)} | " + " | ".join(f"{agreement(c, y)['pairwise_acc']:.3f}" for c in cols) + " |", flush=True
        )


if __name__ == "__main__":
    main()
