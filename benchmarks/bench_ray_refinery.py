"""Per-preset overhead of rendering on Ray against the local worker pool, on this machine.

    .venv/bin/python benchmarks/bench_ray_refinery.py [--presets 16] [--workers 2] [--address ADDRESS]

Renders the same ``--presets`` Debian presets with each pool into a fresh temporary cache (the local
worker processes; Ray actors on a head started on 127.0.0.1 for the run, or ``--address`` of a running
cluster), with the same number of workers, and time-stamps every status record as the driver writes it.
Steady cost of a preset = time between the first and the last record over the records between them
(start-up excluded); start-up = time to the first record. Figures come from one run on a possibly shared
machine (the load average is printed): run it twice before quoting it.
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


class StampedCache(FrameCache):
    def record(self, rec: dict) -> None:
        super().record(rec)
        self.stamps.append(time.perf_counter())


def timed(jobs, workers: int, ray: str | None) -> dict:
    settings = RenderSettings()
    with tempfile.TemporaryDirectory() as tmp:
        cache = StampedCache(settings, Path(tmp))
        cache.stamps = []
        t = time.perf_counter()
        res = render_presets(jobs, settings, cache, workers=workers, progress=False, ray=ray)
        wall = time.perf_counter() - t
    stamps = cache.stamps
    return {
        "wall": wall,
        "startup": stamps[0] - t,
        "steady": (stamps[-1] - stamps[0]) / (len(stamps) - 1),
        "median": float(np.median([r.get("seconds", 0.0) for r in res.values()])),
        "ok": sum(r["status"] == "ok" for r in res.values()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--address", default=None, help="a running Ray cluster (default: start a head on 127.0.0.1)")
    args = ap.parse_args(argv)
    jobs = library.jobs(library.scan([library.DEBIAN_PRESETS / "presets_milkdrop"], "bench")[: args.presets])
    load = [os.getloadavg()[0]]
    rows = {"local": timed(jobs, args.workers, None)}
    head = contextlib.nullcontext(args.address) if args.address else ray_head(num_cpus=args.workers)
    with head as address:
        rows["ray"] = timed(jobs, args.workers, address)
    load.append(os.getloadavg()[0])
    print(f"{len(jobs)} presets, {args.workers} workers, load average {load[0]:.1f} -> {load[1]:.1f}")
    print("| pool | wall s | to the first record s (start-up) | steady s per preset | median render s in the worker | ok |")
    print("| --- | --- | --- | --- | --- | --- |")
    for pool, r in rows.items():
        print(f"| {pool} | {r['wall']:.1f} | {r['startup']:.1f} | {r['steady']:.2f} | {r['median']:.2f} | {r['ok']} |")
    extra = rows["ray"]["steady"] - rows["local"]["steady"]
    print(
        f"Ray overhead: start-up {rows['ray']['startup'] - rows['local']['startup']:+.1f} s a run, "
        f"{extra:+.2f} s of wall time a preset with {args.workers} workers ({extra * args.workers:+.2f} worker-seconds)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
