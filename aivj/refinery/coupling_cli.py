"""``aivj refine coupling``: search the best coupling setting of a dataset's pairs on the frame cache.

    aivj refine coupling [--data data/default] [--out DIR] [--splits golden test_unseen val train]
                         [--per-split N] [--regression] [--cache DIR] [--rounds 2] [--chunk 32]

Writes the dataset again with the coupling columns (docs/coupling.md) to ``--out`` (default
``$AIVJ_HOME/cache/coupling/<data folder name>``; ``--out`` equal to ``--data`` rewrites its pairs
in place) and ``coupling.json`` (counts, speed, mean gain). Pairs outside the chosen splits / sample
keep null columns. Exit codes: 0 written, 1 written with pairs set aside (a preset not in the frame
cache), 2 nothing written (bad arguments, no frame cache: one line).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def add_parser(sub) -> None:
    p = sub.add_parser("coupling", help="search each pair's best FG/BG coupling setting on the frame cache")
    p.add_argument("--data", type=Path, default=Path("data/default"), help="dataset folder (presets.parquet, pairs/)")
    p.add_argument("--out", type=Path, default=None, help="default: $AIVJ_HOME/cache/coupling/<data folder name>")
    p.add_argument("--splits", nargs="+", default=["golden", "test_unseen", "test_seen", "val", "train"])
    p.add_argument(
        "--per-split",
        nargs="+",
        default=["0"],
        metavar="[SPLIT=]N",
        help="search at most N random pairs of each split (0 = all); SPLIT=N for one split, e.g. 1200 train=3000",
    )
    p.add_argument("--regression", action="store_true", help="also every pair of the regression tiers (fast, golden)")
    p.add_argument("--cache", type=Path, default=None, help="frame cache root (default: $AIVJ_HOME/cache/refinery)")
    p.add_argument("--rounds", type=int, default=2, help="coordinate-ascent rounds (a third one changed nothing on 96 pairs)")
    p.add_argument("--chunk", type=int, default=32, help="pairs searched at once")
    p.add_argument("--seed", type=int, default=0)


def _limits(specs: list[str]) -> dict[str, int]:
    out = {}
    for spec in specs:
        name, _, n = spec.rpartition("=")
        if not n.isdigit():
            raise ValueError(f"--per-split {spec}: want N or SPLIT=N with N >= 0")
        out[name] = int(n)
    return out


def _select(args, table) -> np.ndarray:
    """Row numbers of the pairs to search: a per-split sample, plus the regression tiers' pairs."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(args.seed)
    split = table["split"].to_numpy(zero_copy_only=False)
    keep = np.zeros(table.num_rows, dtype=bool)
    limits = _limits(args.per_split)
    for s in args.splits:
        rows = np.flatnonzero(split == s)
        n = limits.get(s, limits.get("", 0))
        if n and len(rows) > n:
            rows = rng.choice(rows, n, replace=False)
        keep[rows] = True
    if args.regression:
        keys = set(zip(table["pack"].to_pylist(), table["pair"].to_pylist()))
        for name in ("fast", "golden"):
            path = args.data / "regression" / f"{name}.parquet"
            if path.exists():
                t = pq.read_table(path, columns=["pack", "pair"])
                tier = set(zip(t["pack"].to_pylist(), t["pair"].to_pylist())) & keys
                keep |= np.asarray([k in tier for k in zip(table["pack"].to_pylist(), table["pair"].to_pylist())])
    return np.flatnonzero(keep)


def cmd_coupling(args) -> int:
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from aivj.contract import coupling as cc
    from aivj.contract.layout import pairs_dataset
    from aivj.home import state_dir
    from aivj.refinery.bank import PresetBank
    from aivj.refinery.cache import FrameCache
    from aivj.refinery.coupling_run import LayerSource, search_pairs
    from aivj.refinery.coupling_table import write_coupling_dataset
    from aivj.refinery.settings import RenderSettings

    if args.rounds < 1 or args.chunk < 1:
        raise ValueError("--rounds and --chunk must be >= 1")
    if not (args.data / "pairs").is_dir():
        raise ValueError(f"{args.data}: not a dataset folder (no pairs/)")
    torch.set_num_threads(1)  # shared cores: OpenMP threads waiting on each other cost more than they give
    cache = FrameCache(RenderSettings(), args.cache)
    if not (cache.dir / "bank.npz").exists():
        raise ValueError(f"{cache.dir}/bank.npz: no preset bank; render the dataset's presets first (aivj refine build)")
    bank = PresetBank.load(cache.dir / "bank.npz")
    table = pairs_dataset(args.data).to_table(columns=["pack", "pair", "fg_id", "bg_id", "split", "score"])
    rows = _select(args, table)
    fg, bg = (np.asarray(table[c].to_pylist(), dtype=object)[rows] for c in ("fg_id", "bg_id"))
    known = set(bank.ids)
    ok = np.asarray(
        [f in known and b in known and cache.frames_path(f).exists() and cache.frames_path(b).exists() for f, b in zip(fg, bg)]
    )
    aside = int((~ok).sum())
    for f, b in list(zip(fg[~ok], bg[~ok]))[:5]:
        print(f"aivj refine coupling: set aside pair {f}/{b}: a preset has no frames in {cache.dir}", file=sys.stderr)
    rows, fg, bg = rows[ok], fg[ok], bg[ok]
    t0 = time.perf_counter()
    with Progress(
        TextColumn("coupling search"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), disable=not sys.stderr.isatty()
    ) as bar:
        task = bar.add_task("search", total=len(rows))
        result = search_pairs(
            LayerSource(cache.load_frames, bank), fg, bg, args.chunk, args.rounds, lambda n: bar.advance(task, n)
        )
    stored = table["score"].to_numpy()[rows]
    drift = float(np.abs(result.default_score - stored).max()) if len(rows) else 0.0
    out = args.out or state_dir("cache") / "coupling" / args.data.resolve().name
    gain = result.columns["coupling_gain"]
    summary = {
        "coupling_version": cc.COUPLING_VERSION,
        "data": str(args.data),
        "frame_cache": str(cache.dir),
        "splits": args.splits,
        "per_split": args.per_split,
        "regression": args.regression,
        "rounds": args.rounds,
        "pairs_selected": int(len(rows) + aside),
        "pairs_searched": int(len(rows)),
        "pairs_set_aside": aside,
        "seconds": round(time.perf_counter() - t0, 1),
        "pairs_per_second": round(len(rows) / max(result.seconds, 1e-9), 2),
        "gain_mean": round(float(gain.mean()), 4) if len(rows) else None,
        "gain_median": round(float(np.median(gain)), 4) if len(rows) else None,
        "default_vs_stored_max_diff": round(drift, 6),
    }
    pack, pair = table["pack"].to_numpy(zero_copy_only=False)[rows], table["pair"].to_numpy()[rows]
    info = write_coupling_dataset(args.data, out, pack, pair, result.columns, summary)
    print(
        f"{out}: {info['pairs_searched']} pairs searched ({info['pairs_per_second']} pairs/s), "
        f"{aside} set aside, {info['pairs_in_dataset'] - info['pairs_with_coupling']} without coupling columns; "
        f"mean gain over the default {summary['gain_mean']}, default vs stored score max diff {drift:.1e}"
    )
    return 1 if aside else 0
