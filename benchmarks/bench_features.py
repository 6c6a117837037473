"""Parse + feature extraction speed on one core, and the process pool over a folder.

    python benchmarks/bench_features.py [--folder /usr/share/projectM/presets] [--repeat 3] [--workers 2] [--against REV]

Prints presets/s for: one core over the Debian presets (files read into memory first, so this
is parse + features only), one core over synthetic MilkDrop 2 presets, and the pool reading
files from disk. CPU time of the process is reported beside wall time because the machine is shared.

References measured in the same run, because the machine is shared: a CPU yardstick
(``sum(range(10**6))``, 20 ms of CPU on the quiet 2-core VM where the 5,000 presets/s target and the
3,500/s baseline were set), which scales the rate to that quiet core; and with ``--against REV`` the
parser and features of git revision REV (e.g. 137848f, before the speed work), timed interleaved
with today's code on the same files, as a ratio.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aivj.milk.batch import load_preset_files, milk_files
from aivj.milk.features import extract_features
from aivj.milk.parser import parse_milk
from aivj.milk.synthetic import synthetic_preset


def one_core(blobs: list[bytes], repeat: int) -> tuple[float, float]:
    """Best-of-``repeat`` presets/s by wall clock and by process CPU time."""
    best_wall = best_cpu = 0.0
    for _ in range(repeat):
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        for data in blobs:
            extract_features(parse_milk(data))
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        best_wall, best_cpu = max(best_wall, len(blobs) / wall), max(best_cpu, len(blobs) / cpu)
    return best_wall, best_cpu


QUIET_YARDSTICK_S = 0.020  # sum(range(10**6)) on the quiet machine of the 3,500/s baseline (docs/benchmarks.md)


def yardstick() -> float:
    """Best-of-5 CPU seconds of a fixed pure-Python loop: how fast this core is right now."""
    best = float("inf")
    for _ in range(5):
        c0 = time.process_time()
        sum(range(10**6))
        best = min(best, time.process_time() - c0)
    return best


def modules_at(rev: str):
    """(parse_milk, extract_features) of git revision ``rev``, loaded under other module names."""
    root = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp(prefix="aivj-bench-rev-"))
    loaded = {}
    for name in ("values", "parser", "lines", "feature_spec", "features", "pairs"):
        text = subprocess.run(
            ["git", "-C", str(root), "show", f"{rev}:aivj/milk/{name}.py"], capture_output=True, text=True, check=True
        ).stdout
        text = text.replace("from aivj.milk.", "from _rev_milk.").replace("import aivj.milk.", "import _rev_milk.")
        (tmp / f"{name}.py").write_text(text)
    package = importlib.util.module_from_spec(importlib.util.spec_from_loader("_rev_milk", loader=None, is_package=True))
    package.__path__ = [str(tmp)]
    sys.modules["_rev_milk"] = package
    for name in ("values", "parser", "lines", "feature_spec", "features"):
        loaded[name] = importlib.import_module(f"_rev_milk.{name}")
    return loaded["parser"].parse_milk, loaded["features"].extract_features


def interleaved(blobs: list[bytes], rev: str, repeat: int) -> tuple[float, float]:
    """Best CPU presets/s of REV's code and of today's, timed alternately on the same blobs."""
    old_parse, old_features = modules_at(rev)
    best = {"old": 0.0, "new": 0.0}
    for _ in range(repeat):
        for key, parse, features in (("old", old_parse, old_features), ("new", parse_milk, extract_features)):
            gc.collect()
            c0 = time.process_time()
            for data in blobs:
                features(parse(data))
            best[key] = max(best[key], len(blobs) / (time.process_time() - c0))
    return best["old"], best["new"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, default=Path("/usr/share/projectM/presets"))
    ap.add_argument("--synthetic", type=int, default=4000, help="synthetic presets to time")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--against", default=None, help="git revision whose parser + features to time beside today's (e.g. 137848f)")
    args = ap.parse_args(argv)
    scale = yardstick() / QUIET_YARDSTICK_S
    print(
        f"yardstick: sum(range(10**6)) {scale * QUIET_YARDSTICK_S * 1e3:.1f} ms CPU (quiet reference {QUIET_YARDSTICK_S * 1e3:.0f} ms): x{scale:.2f}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    files = milk_files(args.folder) if args.folder.is_dir() else []
    if files:
        blobs = [f.read_bytes() for f in files]
        size = sum(map(len, blobs)) / len(blobs)
        wall, cpu = one_core(blobs, args.repeat)
        print(
            f"debian   one core: {wall:8.0f} presets/s wall, {cpu:8.0f} presets/s cpu, {cpu * scale:8.0f}/s on the quiet yardstick core (target 5,000)  ({len(blobs)} files, {size / 1024:.1f} KiB avg)"
        )
        if args.against:
            try:
                old, new = interleaved(blobs, args.against, args.repeat)
                print(
                    f"debian   one core, interleaved: {args.against} {old:8.0f}/s cpu, today {new:8.0f}/s cpu: {new / old:.2f}x"
                )
            except (subprocess.CalledProcessError, FileNotFoundError) as err:  # no git, or a clone without that revision
                print(f"debian   one core, interleaved: revision {args.against} not available ({err}); skipped")
    synth = [synthetic_preset(i).to_text().encode() for i in range(args.synthetic)]
    wall, cpu = one_core(synth, args.repeat)
    size = sum(map(len, synth)) / len(synth)
    print(
        f"synthetic one core: {wall:8.0f} presets/s wall, {cpu:8.0f} presets/s cpu, {cpu * scale:8.0f}/s on the quiet yardstick core  ({len(synth)} presets, {size / 1024:.1f} KiB avg)"
    )
    if files:
        t0 = time.perf_counter()
        records = load_preset_files(files, workers=args.workers, progress=False)
        dt = time.perf_counter() - t0
        ok = sum(r.error is None for r in records)
        print(
            f"debian   pool x{args.workers} (read+hash+parse+features from disk): {len(files) / dt:8.0f} presets/s ({ok}/{len(files)} ok)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
