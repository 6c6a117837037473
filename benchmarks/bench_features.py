"""Parse + feature extraction speed on one core, and the process pool over a folder.

    python benchmarks/bench_features.py [--folder /usr/share/projectM/presets] [--repeat 3] [--workers 2]

Prints presets/s for: one core over the Debian presets (files read into memory first, so this
is parse + features only), one core over synthetic MilkDrop 2 presets, and the pool reading
files from disk. CPU time of the process is reported beside wall time because the machine is shared.
"""

from __future__ import annotations

import argparse
import gc
import os
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, default=Path("/usr/share/projectM/presets"))
    ap.add_argument("--synthetic", type=int, default=4000, help="synthetic presets to time")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    args = ap.parse_args(argv)

    files = milk_files(args.folder) if args.folder.is_dir() else []
    if files:
        blobs = [f.read_bytes() for f in files]
        size = sum(map(len, blobs)) / len(blobs)
        wall, cpu = one_core(blobs, args.repeat)
        print(f"debian   one core: {wall:8.0f} presets/s wall, {cpu:8.0f} presets/s cpu  ({len(blobs)} files, {size / 1024:.1f} KiB avg)")
    synth = [synthetic_preset(i).to_text().encode() for i in range(args.synthetic)]
    wall, cpu = one_core(synth, args.repeat)
    size = sum(map(len, synth)) / len(synth)
    print(f"synthetic one core: {wall:8.0f} presets/s wall, {cpu:8.0f} presets/s cpu  ({len(synth)} presets, {size / 1024:.1f} KiB avg)")
    if files:
        t0 = time.perf_counter()
        records = load_preset_files(files, workers=args.workers, progress=False)
        dt = time.perf_counter() - t0
        ok = sum(r.error is None for r in records)
        print(f"debian   pool x{args.workers} (read+hash+parse+features from disk): {len(files) / dt:8.0f} presets/s ({ok}/{len(files)} ok)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
