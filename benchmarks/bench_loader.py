"""Loader benchmark: does the datamodule keep up with the model?

    .venv/bin/python benchmarks/bench_loader.py [--data DIR] [--workers N] [--model coupling] [--steps 200]

Measures (1) batches/s of the training dataloader alone (EDPS batches of 4 + 32, features joined),
(2) the training step rate of the model on the same batches (forward, backward, AdamW step), and
prints the loader's share of a training step plus the resident memory of the loader processes.
Without --data it generates the synthetic set at the user's scale (104,040 pairs).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="dataset folder (presets.parquet + pairs/); default: synthetic 104,040 pairs")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--model", default="coupling")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (train.py uses extras.torch_threads=1)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    from aivj.training import build
    from datamodules.coupling_datamodule import CouplingDataModule
    from datamodules.synthetic import ensure_synthetic

    data_dir = args.data or ensure_synthetic(ROOT / "data" / "cache" / "synthetic", n_presets=2259, n_pairs=104_040)
    dm = CouplingDataModule(data_dir=str(data_dir), num_workers=args.workers, persistent_workers=args.workers > 0)
    dm.prepare_data()
    dm.setup("fit")
    loader = dm.train_dataloader()

    it = iter(loader)
    batches = [next(it)]  # worker start-up (fork + imports) is paid once per run, not per batch
    t0 = time.perf_counter()
    for _ in range(args.steps - 1):
        batches.append(next(it))
    loader_s = time.perf_counter() - t0
    mem = rss_mb(os.getpid()) + sum(rss_mb(c) for c in children(os.getpid()))
    n_workers_alive = len(children(os.getpid()))
    del it

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"model={args.model}"])
    model = build(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for b in batches[:5]:  # warm-up: allocator and first-call overheads
        model.loss(model.net(b), b)["loss"].backward()
    t0 = time.perf_counter()
    for b in batches:
        opt.zero_grad(set_to_none=True)
        model.loss(model.net(b), b)["loss"].backward()
        opt.step()
    step_s = time.perf_counter() - t0

    per_batch_loader = loader_s / (len(batches) - 1) * 1000
    per_step = step_s / len(batches) * 1000
    print(f"torch threads: {args.threads}")
    print(f"data: {data_dir}  pairs(train)={len(dm.splits['train'])}  workers={args.workers} (alive: {n_workers_alive})")
    print(f"loader alone : {(len(batches) - 1) / loader_s:8.1f} batches/s  ({per_batch_loader:.2f} ms/batch of {dm.batch_size})")
    print(f"train step   : {len(batches) / step_s:8.1f} steps/s    ({per_step:.2f} ms/step, model={args.model})")
    print(f"loader share : {per_batch_loader / (per_batch_loader + per_step) * 100:.1f}% of a training step (target < 5%)")
    print(f"memory       : {mem:.0f} MB resident (main + loader workers; forked workers share pages, so this over-counts)")


if __name__ == "__main__":
    main()
