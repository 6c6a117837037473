"""Coupling search speed: pairs per second of ``aivj refine coupling`` on random pairs of the frame cache.

    .venv/bin/python benchmarks/bench_coupling_search.py [--data data/default] [--pairs 64] [--rounds 1 2]

Picks ``--pairs`` random pairs of the dataset (seed 0), then per round count: a cold pass (frames read,
zoomed variants built) and a warm one (variants cached), both single-threaded, and the hours the
whole table would take at the cold rate. Prints one line per figure with the load average: the
machine is shared, so the figures are of that moment.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aivj.contract.layout import pairs_dataset  # noqa: E402
from aivj.refinery.bank import PresetBank  # noqa: E402
from aivj.refinery.cache import FrameCache  # noqa: E402
from aivj.refinery.coupling_run import LayerSource, search_pairs  # noqa: E402
from aivj.refinery.settings import RenderSettings  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "default")
    p.add_argument("--pairs", type=int, default=64)
    p.add_argument("--rounds", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    torch.set_num_threads(1)
    cache = FrameCache(RenderSettings())
    bank = PresetBank.load(cache.dir / "bank.npz")
    t = pairs_dataset(args.data).to_table(columns=["fg_id", "bg_id"])
    rows = np.random.default_rng(0).choice(t.num_rows, args.pairs, replace=False)
    fg, bg = (np.asarray(t[c].to_pylist(), dtype=object)[rows] for c in ("fg_id", "bg_id"))
    print(f"{args.pairs} random pairs of {t.num_rows}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for rounds in args.rounds:
        src = LayerSource(cache.load_frames, bank)
        t0 = time.perf_counter()
        search_pairs(src, fg, bg, rounds=rounds)
        cold = time.perf_counter() - t0
        warm = search_pairs(src, fg, bg, rounds=rounds).seconds
        rate = args.pairs / cold
        print(
            f"rounds {rounds}: cold {rate:.2f} pairs/s, warm {args.pairs / warm:.2f} pairs/s; "
            f"whole table at the cold rate {t.num_rows / rate / 3600:.1f} h (load {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
