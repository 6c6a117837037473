"""Refinery throughput: presets rendered per second and pairs scored per second, against the
user's browser evaluation (8 samples 250 ms apart: about 2 s of real time per pair).

    .venv/bin/python benchmarks/bench_refinery.py [--presets 40] [--pairs 100000] [--workers 2] [--write]

Renders ``--presets`` Debian presets into a fresh temporary cache (worker start-up included),
then scores ``--pairs`` random pairs from the preset bank of the main cache when it exists (else
from the presets just rendered). ``--write`` puts the figures into docs/benchmarks.md under
"## Refinery" (replacing that section).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aivj.refinery import library  # noqa: E402
from aivj.refinery.cache import FrameCache  # noqa: E402
from aivj.refinery.render import render_presets  # noqa: E402
from aivj.refinery.scoring import score_pairs  # noqa: E402
from aivj.refinery.settings import RenderSettings  # noqa: E402

from doc_section import write_section  # noqa: E402  (benchmarks/ is run as scripts)

BROWSER_SECONDS_PER_PAIR = 2.0
DATE, MACHINE = "2026-11-26", "2 cores (shared with other jobs), no GPU, Mesa llvmpipe via EGL surfaceless"


def bench_render(n: int, workers: int) -> tuple[float, float, int]:
    files = library.scan([library.DEBIAN_PRESETS / "presets_milkdrop"], "bench")[:n]
    settings = RenderSettings()
    with tempfile.TemporaryDirectory() as tmp:
        cache = FrameCache(settings, Path(tmp))
        t = time.perf_counter()
        res = render_presets(library.jobs(files), settings, cache, workers=workers, progress=False)
        wall = time.perf_counter() - t
        ok = [k for k, r in res.items() if r["status"] == "ok"]
        median = float(np.median([r["seconds"] for r in res.values()]))
        bank = library.load_bank(cache, ok, progress=False)
    return len(files) / wall, median, bank


def bench_score(bank, n_pairs: int) -> float:
    rng = np.random.default_rng(0)
    f, b = rng.integers(0, len(bank.ids), n_pairs), rng.integers(0, len(bank.ids), n_pairs)
    score_pairs(bank, f[:1000], b[:1000])  # warm caches
    t = time.perf_counter()
    score_pairs(bank, f, b)
    return n_pairs / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=40)
    ap.add_argument("--pairs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="write the section into docs/benchmarks.md")
    args = ap.parse_args(argv)
    render_rate, median, bank = bench_render(args.presets, args.workers)
    main_bank = FrameCache(RenderSettings()).dir / "bank.npz"
    if main_bank.exists():
        from aivj.refinery.bank import PresetBank

        bank = PresetBank.load(main_bank)
    pair_rate = bench_score(bank, args.pairs)
    browser = 1.0 / BROWSER_SECONDS_PER_PAIR
    fresh = 1.0 / (2.0 / render_rate + 1.0 / pair_rate)  # a pair whose two presets were never rendered
    lines = [
        "## Refinery",
        "",
        f"Date {DATE}; machine: {MACHINE}. Command: `.venv/bin/python benchmarks/bench_refinery.py --presets {args.presets}"
        f" --pairs {args.pairs} --workers {args.workers} --write`.",
        "",
        "| measure | value | vs browser (0.5 pairs/s) |",
        "| --- | --- | --- |",
        f"| presets rendered/s ({args.workers} workers, 128 px, 104 frames each, start-up included) | {render_rate:.2f} | - |",
        f"| median seconds per preset render | {median:.3f} | - |",
        f"| pairs scored/s from the cache ({len(bank.ids)} presets in the bank) | {pair_rate:,.0f} | {pair_rate / browser:,.0f}x |",
        f"| pairs/s when both presets still need a render | {fresh:.2f} | {fresh / browser:.1f}x |",
        "",
        "A preset is rendered once and then pairs with every other preset for free: N presets give N*(N-1) pairs",
        "for N renders, where the browser spends 2 s of real time on every pair.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("Refinery", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
