"""Render cost per preset, split into projectM and the worker's Python, old and new side by side.

    python benchmarks/bench_render.py [--presets 12] [--seed 0]

Runs in one worker-like process (re-executed with LD_PRELOAD=<shim> as render.py starts workers):
opens projectM once, then for each preset (a seeded sample of the render cache's ``ok`` presets,
Debian's without a cache) times, in process CPU seconds:
  - the bare projectM loop: the shim's render call (8 black + 32 warm-up + 64 stored frames at
    128 px, read back as RGB): the reference of issue 13;
  - the worker's Python after it, today's (``render_job``: downsample, luma, savez) and the one it
    replaced (float mean downsample, luma twice), on the same frames;
and checks the stored frames against the cache (bit-identical where the settings are unchanged).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aivj.refinery import library  # noqa: E402
from aivj.refinery.cache import FrameCache  # noqa: E402
from aivj.refinery.native import RefineryUnavailable, build_shim  # noqa: E402
from aivj.refinery.settings import RenderSettings  # noqa: E402
from aivj.refinery.worker import BLACK_PRESET, Shim, luma, render_job  # noqa: E402


def old_post(frames: np.ndarray, store: int) -> np.ndarray:
    """The worker's Python before 2026-12-02: float copy of every pixel, mean over strided axes."""
    t, h, w, c = frames.shape
    fy, fx = h // store, w // store
    boxed = frames[:, : store * fy, : store * fx].reshape(t, store, fy, store, fx, c).astype(np.float32).mean(axis=(2, 4))
    small = np.round(boxed).astype(np.uint8)
    float(luma(small).max()), float(luma(small).mean())
    np.savez_compressed(io.BytesIO(), frames=small)
    return small


def pick(cache: FrameCache, n: int, seed: int) -> list[tuple[str, str]]:
    recs = [r for r in cache.statuses().values() if r["status"] == "ok" and os.path.isfile(r.get("path", ""))]
    if not recs:  # no render cache here: Debian's presets, nothing to compare with
        files = library.scan([library.DEBIAN_PRESETS / "presets_milkdrop"], "bench")
        return [(j.id, j.path) for j in library.jobs(files)][:n]
    recs.sort(key=lambda r: r["id"])
    return [(r["id"], r["path"]) for r in random.Random(seed).sample(recs, min(n, len(recs)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        shim_path = build_shim()
    except RefineryUnavailable as exc:  # a machine without projectM: nothing to time
        print(f"skipped: {exc}")
        return 0
    if os.environ.get("AIVJ_SHIM") != str(shim_path):  # the virtual clock must win symbol lookup
        env = dict(os.environ, LD_PRELOAD=str(shim_path), AIVJ_SHIM=str(shim_path), LP_NUM_THREADS="1")
        env["AIVJ_BENCH_DATE"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())  # the shim fakes time()
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    settings = RenderSettings()
    cache = FrameCache(settings)
    jobs = pick(cache, args.presets, args.seed)
    black = Path(os.environ.get("TMPDIR", "/tmp")) / f"aivj-bench-black-{os.getpid()}.milk"
    black.write_text(BLACK_PRESET)
    load0 = os.getloadavg()
    shim = Shim(str(shim_path), settings)
    bare, new, old, same, compared = [], [], [], 0, 0
    for preset_id, path in jobs:
        c0 = time.process_time()
        rc, _, frames = shim.render(path, str(black))
        bare.append(time.process_time() - c0)
        stored = {}
        c0 = time.process_time()
        rec = render_job(_Done(frames, rc), settings, str(black), {"id": preset_id, "path": path}, _saver(stored))
        new.append(time.process_time() - c0)
        c0 = time.process_time()
        small_old = old_post(frames, settings.store)
        old.append(time.process_time() - c0)
        if rec["status"] in ("ok", "black") and cache.frames_path(preset_id).is_file():
            compared += 1
            cached, small = cache.load_frames(preset_id), stored[preset_id]
            same += bool(np.array_equal(small, cached) and np.array_equal(small_old, small))
            if not np.array_equal(small, cached):
                diff = np.abs(small.astype(int) - cached).max(axis=(1, 2, 3))
                print(f"{preset_id} {path}: old == new {np.array_equal(small_old, small)}; frames unlike the cache's:"
                      f" {np.flatnonzero(diff).tolist()[:8]} (max difference {diff.max()})")  # fmt: skip
    black.unlink()
    b, n, o = (1000 * float(np.median(x)) for x in (bare, new, old))
    print(json.dumps({"date": os.environ["AIVJ_BENCH_DATE"], "presets": len(jobs),
                      "load_before": [round(x, 2) for x in load0], "load_after": [round(x, 2) for x in os.getloadavg()]}))  # fmt: skip
    print("| per preset (median, CPU ms) | bare projectM loop (reference) | worker Python | whole job | vs bare loop |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| before (float-mean downsample) | {b:.0f} | {o:.1f} | {b + o:.0f} | {(b + o) / b:.3f}x |")
    print(f"| today (render_job) | {b:.0f} | {n:.1f} | {b + n:.0f} | {(b + n) / b:.3f}x |")
    print(f"worker Python: {o / n:.2f}x faster; whole job: {(b + o) / (b + n):.3f}x faster")
    print(f"stored frames identical to the render cache ({cache.dir.name}): {same}/{compared}")
    os._exit(0)  # projectM is never destroyed (~projectM() can deadlock: docs/refinery.md)


class _Done:
    """A Shim stand-in that hands ``render_job`` the frames already rendered (times the Python only)."""

    def __init__(self, frames: np.ndarray, rc: int):
        self.frames, self.rc = frames, rc

    def render(self, path: str, black_path: str):
        return self.rc, "", self.frames


def _saver(stored: dict):
    def save(preset_id: str, small: np.ndarray) -> None:
        stored[preset_id] = small
        np.savez_compressed(io.BytesIO(), frames=small)  # the cache's write, to memory

    return save


if __name__ == "__main__":
    raise SystemExit(main())
