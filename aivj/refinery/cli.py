"""``aivj refine render|score|alchemy|build|build-shim``: the refinery's command line."""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

from aivj.refinery.native import RefineryUnavailable


def _settings(args):
    from aivj.refinery.settings import RenderSettings

    return RenderSettings(width=args.size, height=args.size, audio=args.audio)


def _render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--audio", default="techno", help="techno | ambient | breakbeat | a .wav path")
    p.add_argument("--size", type=int, default=128, help="render size in pixels (stored frames are 32x32)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per preset before it counts as hung")


def cmd_render(args) -> int:
    from aivj.refinery import library
    from aivj.refinery.render import render_presets

    files = library.scan(args.paths, "cli")
    res = render_presets(library.jobs(files), _settings(args), workers=args.workers, timeout=args.timeout)
    counts = collections.Counter(r["status"] for r in res.values())
    print(f"{len(files)} distinct presets: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for r in res.values():
        if r["status"] != "ok":
            print(f"  {r['status']}: {r.get('path', r['id'])}: {r.get('reason', '')}")
    return 0


def cmd_score(args) -> int:
    from aivj.refinery import library, tables
    from aivj.refinery.cache import OK, FrameCache
    from aivj.refinery.packs import read_manifest
    from aivj.refinery.render import render_presets
    from aivj.refinery.scoring import score_pairs

    settings = _settings(args)
    cache = FrameCache(settings)
    pack = Path(args.pack)
    rows = read_manifest(pack)
    files = library.scan(sorted({str(r["fg"]) for r in rows} | {str(r["bg"]) for r in rows}), f"pack:{pack.name}")
    status = render_presets(library.jobs(files), settings, cache, workers=args.workers, timeout=args.timeout)
    by_path = library.ids_by_path([r["fg"] for r in rows] + [r["bg"] for r in rows])
    ok = lambda p: status.get(by_path.get(str(p)), {}).get("status") == OK  # noqa: E731
    kept = [r for r in rows if ok(r["fg"]) and ok(r["bg"])]
    print(f"{len(kept)} of {len(rows)} pairs have both layers rendered")
    if not kept:
        return 1
    ids = sorted({by_path[str(r["fg"])] for r in kept} | {by_path[str(r["bg"])] for r in kept})
    bank = library.load_bank(cache, ids)
    ix = bank.index()
    fg = [by_path[str(r["fg"])] for r in kept]
    bg = [by_path[str(r["bg"])] for r in kept]
    res = score_pairs(bank, [ix[i] for i in fg], [ix[i] for i in bg])
    pair = [r["pair"] for r in kept]
    rms, peak = library.sample_audio_stats(cache)
    wd = [r["warp_diff"] if r["warp_diff"] is not None else np.nan for r in kept]
    cd = [r["cx_diff"] if r["cx_diff"] is not None else np.nan for r in kept]
    out = Path(args.out)
    n = tables.write_jsonl(tables.eval_rows(pack.name, pair, fg, bg, res, rms, peak, wd, cd), out / "eval.jsonl")
    from datamodules.layout import write_dataset

    presets, _ = library.preset_table([f for f in files if f.id in set(ids)], bank)
    table = tables.pairs_table(pack.name, pair, fg, bg, res, f"refinery:{pack.name}", "train")
    write_dataset(presets, table, out, {"pack": pack.name})
    s = res["score"]
    print(f"wrote {n} eval rows and {len(kept)} pairs to {out}; score mean {s.mean():.2f}, >=4: {(s >= 4).sum()}, <=2: {(s <= 2).sum()}")
    return 0


def cmd_alchemy(args) -> int:
    from aivj.refinery import alchemy, library
    from aivj.refinery.render import render_presets

    seeds = [f.path for f in library.scan(args.seeds, "seed")]
    manifest = alchemy.generate(seeds, Path(args.out), args.pairs, seed=args.seed, couple_fraction=args.couple_fraction)
    print(f"wrote {args.pairs} pairs: {manifest}")
    if not args.no_render:
        files = library.scan([Path(args.out) / "fg", Path(args.out) / "bg"], "alchemy")
        res = render_presets(library.jobs(files), _settings(args), workers=args.workers, timeout=args.timeout)
        counts = collections.Counter(r["status"] for r in res.values())
        print("rendered: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


def cmd_build(args) -> int:
    from aivj.refinery.dataset import build

    command = "aivj refine build " + " ".join(args.raw)
    info = build(Path(args.out), n_pairs=args.pairs, n_alchemy=args.alchemy, n_golden=args.golden, workers=args.workers,
                 timeout=args.timeout, seed=args.seed, settings=_settings(args), command=command.strip())
    print(f"wrote {args.out}: {info['presets']} presets, {info['pairs']} pairs, splits {info['splits']}")
    return 0


def cmd_build_shim(args) -> int:
    from aivj.refinery.native import build_shim

    print(build_shim(force=args.force))
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="aivj refine", description="render presets with projectM, score pairs, build datasets")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("render", help="render presets (files or folders) once into the frame cache")
    p.add_argument("paths", nargs="+")
    _render_args(p)
    p = sub.add_parser("score", help="render and score a coupled pack (manifest.jsonl): eval.jsonl + pairs table")
    p.add_argument("pack")
    p.add_argument("--out", required=True)
    _render_args(p)
    p = sub.add_parser("alchemy", help="generate coupled FG/BG pairs from seed presets")
    p.add_argument("seeds", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--pairs", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--couple-fraction", type=float, default=0.5, help="share of pairs with time-coupling terms")
    p.add_argument("--no-render", action="store_true")
    _render_args(p)
    p = sub.add_parser("build", help="build the embedded default dataset (data/default)")
    p.add_argument("--out", default="data/default")
    p.add_argument("--pairs", type=int, default=110_000)
    p.add_argument("--alchemy", type=int, default=300)
    p.add_argument("--golden", type=int, default=600, help="elite pairs held out (plus as many negatives)")
    p.add_argument("--seed", type=int, default=0)
    _render_args(p)
    p = sub.add_parser("build-shim", help="compile the projectM shim into build/native/")
    p.add_argument("--force", action="store_true")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.raw = argv[1:]
    handler = {"render": cmd_render, "score": cmd_score, "alchemy": cmd_alchemy, "build": cmd_build, "build-shim": cmd_build_shim}
    try:
        return handler[args.cmd](args)
    except (RefineryUnavailable, ValueError, FileNotFoundError) as exc:
        print(f"aivj refine: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
