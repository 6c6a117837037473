"""Render options side by side: CPU per preset, frames against the cache, descriptors and pair scores.

    python benchmarks/bench_render_options.py [--presets 24] [--seed 0] [--option NAME=K=V,K=V ...]

An option sets Mesa/llvmpipe environment variables (upper-case keys, e.g. ``LP_NATIVE_VECTOR_WIDTH=128``)
and/or ``RenderSettings`` fields (lower-case, e.g. ``mesh_x=16,mesh_y=12``). Every option gets its own
worker-like process (``LD_PRELOAD`` of the shim, ``LP_NUM_THREADS=1``, as ``render.py`` starts workers),
and so does today's setting; the presets go round-robin through all of them, the first process changing
with every preset, so a noisy machine slows every column alike. Figures per option: median process CPU ms
of the shim's render call, the per-preset ratio to today's (median), how many stored frames equal the
render cache's and today's in this run, and, for options that change frames, how far the 96 render
descriptors and the refinery's pair scores (all ordered pairs of the sample) move from today's frames.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aivj.refinery.cache import FrameCache  # noqa: E402
from aivj.refinery.settings import RenderSettings  # noqa: E402

# What docs/benchmarks.md "Renderer" (render options, side by side) measured; --option replaces the list.
DEFAULT_OPTIONS = [
    "today_again=",  # the noise floor
    "vector_width_128=LP_NATIVE_VECTOR_WIDTH=128",  # 256 is llvmpipe's default here; 512 crashes Mesa 22.3
    "no_rast_thread=LP_NUM_THREADS=0",
    "openblas_1_thread=OPENBLAS_NUM_THREADS=1",
    "warmup48_reference=warmup=48",  # not an option: how far one beat later in a preset's life moves things
    "warmup16=warmup=16",
    "black2_warmup22=black_frames=2,warmup=22",
    "mesh24x18=mesh_x=24,mesh_y=18",
    "mesh16x12=mesh_x=16,mesh_y=12",
    "mesh8x6=mesh_x=8,mesh_y=6",
    "warmup16_mesh16x12=warmup=16,mesh_x=16,mesh_y=12",
    "floor_warmup0_mesh8x6=warmup=0,mesh_x=8,mesh_y=6",
]
FIELDS = {f.name for f in dataclasses.fields(RenderSettings)}


def parse_option(text: str) -> tuple[str, dict, dict]:
    """``NAME=K=V,K=V`` -> (name, env, settings); a clear error for anything else."""
    name, _, body = text.partition("=")
    env, settings = {}, {}
    for item in filter(None, body.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--option {text!r}: expected NAME=K=V,K=V")
        if key.isupper():
            env[key] = value
        elif key in FIELDS:
            field_type = type(getattr(RenderSettings(), key))
            settings[key] = field_type(value)
        else:
            raise SystemExit(f"--option {text!r}: {key} is neither an environment variable nor a RenderSettings field")
    return name, env, settings


def child(spec: dict) -> None:
    """One worker-like process: renders each ``id<TAB>path`` line, answers one JSON line, frames to .npy."""
    from aivj.refinery.worker import BLACK_PRESET, Shim, downsample

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # projectM prints to stdout
    settings = RenderSettings(**spec["settings"])
    out = Path(spec["out"])
    black = out / "black.milk"
    black.write_text(BLACK_PRESET)
    shim = Shim(os.environ["AIVJ_SHIM"], settings)
    proto.write("{}\n")
    for line in sys.stdin:
        preset_id, path = line.rstrip("\n").split("\t")
        c0 = time.process_time()
        rc, err, frames = shim.render(path, str(black))
        cpu = time.process_time() - c0
        np.save(out / f"{preset_id}.npy", downsample(frames, settings.store))
        proto.write(json.dumps({"rc": rc, "cpu_ms": 1000 * cpu, "err": err}) + "\n")
    os._exit(0)  # projectM is never destroyed (docs/refinery.md)


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks along axis 0 (ties share their mean rank), for Spearman correlations."""
    order = np.argsort(x, axis=0, kind="stable")
    r = np.empty_like(x, dtype=np.float64)
    np.put_along_axis(r, order, np.arange(len(x), dtype=np.float64)[:, None].repeat(x.shape[1], 1), axis=0)
    for j in range(x.shape[1]):
        _, inv = np.unique(x[:, j], return_inverse=True)
        r[:, j] = (np.bincount(inv, r[:, j]) / np.bincount(inv))[inv]
    return r


def corr_cols(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a - a.mean(0), b - b.mean(0)
    den = np.sqrt((a * a).sum(0) * (b * b).sum(0))
    return np.where(den > 1e-12, (a * b).sum(0) / np.maximum(den, 1e-12), np.nan)


def agreement(base: dict, other: dict, base_settings: RenderSettings, settings: RenderSettings) -> dict:
    """How far descriptors and pair scores move from today's frames to the option's (same presets)."""
    from aivj.refinery import library
    from aivj.refinery.bank import PresetBank
    from aivj.refinery.scoring import score_pairs

    def bank(frames: dict, s: RenderSettings) -> PresetBank:
        envelope = library.render_envelope(_Settings(s))
        return PresetBank.from_frames(sorted(frames.items()), envelope, s.sample_frames(), s.steps_per_beat)

    b0, b1 = bank(base, base_settings), bank(other, settings)
    desc = lambda b: np.stack([np.concatenate([b.descriptors[k][p] for p in ("summary", "layout", "motion")]) for k in b.ids])  # noqa: E731
    d0, d1 = desc(b0), desc(b1)
    varying = d0.std(0) > 1e-9
    spearman = corr_cols(ranks(d0), ranks(d1))[varying]
    fg, bg = np.nonzero(~np.eye(len(b0.ids), dtype=bool))  # every ordered pair of two different presets
    s0, s1 = score_pairs(b0, fg, bg)["score"], score_pairs(b1, fg, bg)["score"]
    top = max(1, len(s0) // 10)
    top0, top1 = set(np.argsort(-s0, kind="stable")[:top]), set(np.argsort(-s1, kind="stable")[:top])
    return {
        "desc_spearman_median": float(np.nanmedian(spearman)),
        "desc_spearman_min": float(np.nanmin(spearman)),
        "summary_spearman_median": float(np.nanmedian(corr_cols(ranks(d0[:, :16]), ranks(d1[:, :16])))),
        "score_pearson": float(np.corrcoef(s0, s1)[0, 1]),
        "score_spearman": float(corr_cols(ranks(s0[:, None]), ranks(s1[:, None]))[0]),
        "score_mean_abs_diff": float(np.abs(s0 - s1).mean()),
        "score_top10pct_overlap": len(top0 & top1) / top,
        "vitality_flips": int(((b0.vitality > 0) != (b1.vitality > 0)).sum()),
        "pairs": len(s0),
    }


class _Settings:
    """What ``library.render_envelope`` reads from a cache: its settings."""

    def __init__(self, settings: RenderSettings):
        self.settings = settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--option", action="append", help="NAME=K=V,K=V (repeatable; default: the measured list)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
    from bench_render import pick

    from aivj.refinery.native import RefineryUnavailable, build_shim

    try:
        shim = str(build_shim())
    except RefineryUnavailable as exc:
        print(f"skipped: {exc}")
        return 0
    options = [("today", {}, {})] + [parse_option(o) for o in (args.option or DEFAULT_OPTIONS)]
    cache = FrameCache.reader(RenderSettings())
    jobs = pick(cache, args.presets, args.seed) if cache else []
    if not jobs:
        print(f"skipped: no render cache with ok presets under {FrameCache(RenderSettings()).dir}")
        return 0
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="aivj-render-options-") as tmp:

        def start(name: str, env: dict, settings: dict) -> subprocess.Popen:
            penv = {**os.environ, "LD_PRELOAD": shim, "AIVJ_SHIM": shim, "LP_NUM_THREADS": "1", **env}
            spec = json.dumps({"settings": settings, "out": str(Path(tmp) / name)})
            proc = subprocess.Popen([sys.executable, __file__, "--child", spec], env=penv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)  # fmt: skip
            proc.stdout.readline()
            return proc

        procs = {}
        for name, env, settings in options:
            (Path(tmp) / name).mkdir()
            procs[name] = start(name, env, settings)
        load0, names = os.getloadavg(), [o[0] for o in options]
        cpu, crashed = {n: {} for n in names}, {}
        for i, (preset_id, path) in enumerate(jobs):
            for k in range(len(names)):
                name, env, settings = options[(i + k) % len(options)]
                procs[name].stdin.write(f"{preset_id}\t{path}\n")
                line = procs[name].stdout.readline()
                if line:
                    cpu[name][preset_id] = json.loads(line)["cpu_ms"]
                else:  # projectM crashed (the real pool records "crash" and restarts the worker): so do we
                    crashed.setdefault(preset_id, []).append(f"{name} (rc {procs[name].wait()})")
                    procs[name] = start(name, env, settings)
        for p in procs.values():
            p.stdin.close()
            p.wait()
        kept = [pid for pid, _ in jobs if pid not in crashed]
        frames = {n: {pid: np.load(Path(tmp) / n / f"{pid}.npy") for pid in kept} for n in names}
    for pid, who in crashed.items():
        print(f"left out {pid}: projectM crashed under {', '.join(who)}", file=sys.stderr)
    print(json.dumps({"date": date, "presets": len(jobs), "crashed": len(crashed), "load_before": [round(x, 2) for x in load0],
                      "load_after": [round(x, 2) for x in os.getloadavg()]}))  # fmt: skip
    print("| option | CPU ms / preset (median) | today / option (per-preset median) | = cache | = today (this run) "
          "| descriptors Spearman (median / min dim) | pair score Pearson / Spearman | top 10% pairs kept |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = RenderSettings()
    for name, _env, settings in options:
        s = dataclasses.replace(base, **settings)
        same_cache = sum(
            np.array_equal(f, cache.load_frames(pid)) for pid, f in frames[name].items() if f.shape == (64, 32, 32, 3)
        )
        same_today = sum(np.array_equal(f, frames["today"][pid]) for pid, f in frames[name].items())
        timed = [pid for pid in kept if pid != jobs[0][0]]  # the first preset also pays for shader compiles
        ms = np.array([cpu[name][pid] for pid in timed])
        ratio = float(np.median(np.array([cpu["today"][pid] for pid in timed]) / ms))
        cols = ["", "", ""]
        if same_today < len(kept):
            a = agreement(frames["today"], frames[name], base, s)
            cols = [f"{a['desc_spearman_median']:.3f} / {a['desc_spearman_min']:.2f}",
                    f"{a['score_pearson']:.3f} / {a['score_spearman']:.3f}", f"{a['score_top10pct_overlap']:.0%}"]  # fmt: skip
            print(f"  {name}: {json.dumps(a)}", file=sys.stderr)
        print(f"| {name} | {np.median(ms):.0f} | {ratio:.3f}x | {same_cache}/{len(kept)} | {same_today}/{len(kept)} | "
              + " | ".join(cols) + " |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
