"""Per-preset overhead of rendering on Ray against the local worker pool, on this machine.

    .venv/bin/python benchmarks/bench_ray_refinery.py [--presets 12] [--workers 2] [--address ADDRESS]

Renders the same ``--presets`` Debian presets twice into fresh temporary caches, once with the local
pool and once on Ray actors (a head started on 127.0.0.1 for the run, or ``--address`` of a running
cluster), with the same number of workers. Prints wall time per preset (worker start-up included)
and the median in-worker render time, so the difference is what the transport costs a preset.
Figures are ratios of one run on a possibly shared machine: run it twice before quoting it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aivj.refinery import library
from aivj.refinery.cache import FrameCache
from aivj.refinery.render import render_presets
from aivj.refinery.settings import RenderSettings
from tests.servers import ray_head


def timed(jobs, workers: int, ray: str | None) -> tuple[float, float, int]:
    settings = RenderSettings()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        res = render_presets(jobs, settings, FrameCache(settings, Path(tmp)), workers=workers, progress=False, ray=ray)
        wall = time.perf_counter() - t
    ok = sum(r["status"] == "ok" for r in res.values())
    return wall, float(np.median([r.get("seconds", 0.0) for r in res.values()])), ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--address", default=None, help="a running Ray cluster (default: start a head on 127.0.0.1)")
    args = ap.parse_args(argv)
    files = library.scan([library.DEBIAN_PRESETS / "presets_milkdrop"], "bench")[: args.presets]
    jobs = library.jobs(files)
    local_wall, local_median, local_ok = timed(jobs, args.workers, None)
    head = contextlib.nullcontext(args.address) if args.address else ray_head(num_cpus=args.workers)
    with head as address:
        ray_wall, ray_median, ray_ok = timed(jobs, args.workers, address)
    n = len(jobs)
    print(f"{n} presets, {args.workers} workers, load average {os.getloadavg()[0]:.1f} at the end")
    print("| pool | wall s | wall s per preset x workers | median render s (in the worker) | ok |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| local | {local_wall:.1f} | {local_wall * args.workers / n:.2f} | {local_median:.2f} | {local_ok} |")
    print(f"| ray | {ray_wall:.1f} | {ray_wall * args.workers / n:.2f} | {ray_median:.2f} | {ray_ok} |")
    print(f"overhead per preset (ray - local, worker-seconds): {(ray_wall - local_wall) * args.workers / n:+.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
