"""``aivj refine render|score|alchemy|build|build-shim``: the refinery's command line."""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

from aivj.cli import debug_enabled, one_line
from aivj.refinery import coupling_cli
from aivj.refinery.native import RefineryUnavailable

MIN_SIZE, MAX_SIZE = 32, 2048  # stored frames are 32 px boxes of the render; 2048 px is already 12 MB a frame
EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING = 0, 1, 2


def _settings(args):
    """Render settings from the arguments, checked before anything is written (ValueError, one line)."""
    from aivj.milk.audio import make_audio
    from aivj.refinery.settings import RenderSettings

    if not MIN_SIZE <= args.size <= MAX_SIZE:
        raise ValueError(f"--size {args.size}: must be {MIN_SIZE}-{MAX_SIZE} pixels")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: must be 1 or more")
    if not args.timeout > 0:
        raise ValueError(f"--timeout {args.timeout}: must be more than 0 seconds")
    audio = args.audio
    if audio.lower().endswith(".wav"):
        audio = str(Path(audio).resolve())  # workers run in the repository, not here
        if not Path(audio).is_file():
            raise ValueError(f"--audio {args.audio}: no such .wav file")
    make_audio(audio, 16)  # an unknown program or a bad .wav fails here, in one line, not in every worker
    if getattr(args, "ray", None):
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ValueError(f"--ray {args.ray}: Ray is not installed; install with: pip install -e '.[scale]'")
    return RenderSettings(width=args.size, height=args.size, audio=audio)


def _render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--audio", default="techno", help="techno | ambient | breakbeat | a .wav path")
    p.add_argument(
        "--size", type=int, default=128, help=f"render size in pixels, {MIN_SIZE}-{MAX_SIZE} (stored frames are 32x32)"
    )
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per preset before it counts as hung")
    p.add_argument("--retry-failed", action="store_true", help="render again presets that crashed or timed out before")
    p.add_argument("--cache", type=Path, default=None, help="frame cache root (default: $AIVJ_HOME/cache/refinery)")
    p.add_argument(
        "--ray",
        metavar="auto|ADDRESS",
        default=None,
        help="render on a Ray cluster (docs/scaling.md); --workers then counts Ray actors (default: the cluster's CPUs)",
    )


def _retry(args) -> tuple[str, ...]:
    return ("crash", "timeout") if getattr(args, "retry_failed", False) else ()


def _scan_presets(paths: list[str]):
    from aivj.refinery import library

    not_milk = [p for p in paths if Path(p).is_file() and Path(p).suffix.lower() != ".milk"]
    if not_milk:
        raise ValueError(f"{not_milk[0]}: not a .milk preset file")
    files = library.scan(paths, "cli")
    if not files:
        raise ValueError(f"{', '.join(paths)}: no .milk presets found")
    return files


def cmd_render(args) -> int:
    from aivj.refinery import library
    from aivj.refinery.cache import FrameCache
    from aivj.refinery.render import render_presets

    settings = _settings(args)
    files = _scan_presets(args.paths)
    res = render_presets(
        library.jobs(files),
        settings,
        FrameCache(settings, args.cache),
        workers=args.workers,
        timeout=args.timeout,
        retry=_retry(args),
        ray=args.ray,
    )
    counts = collections.Counter(r["status"] for r in res.values())
    print(f"{len(files)} distinct presets: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for r in res.values():
        if r["status"] != "ok":
            print(f"  {r['status']}: {r.get('path', r['id'])}: {r.get('reason', '')}")
    ok = counts.get("ok", 0)
    return EXIT_OK if ok == len(files) else EXIT_PARTIAL if ok else EXIT_NOTHING


def cmd_score(args) -> int:
    from aivj.ingest.packs import read_pack_rows
    from aivj.refinery import library, tables
    from aivj.refinery.cache import OK, FrameCache
    from aivj.refinery.packs import manifest_rows
    from aivj.refinery.render import render_presets
    from aivj.refinery.scoring import score_pairs

    settings = _settings(args)
    pack, out = Path(args.pack), Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: is a file, not a folder")
    read = read_pack_rows(pack)
    if read.set_aside:
        print(f"  set aside: {read.summary()}", file=sys.stderr)
    rows = manifest_rows(read)
    present = [r for r in rows if r["fg"] is not None and r["bg"] is not None]
    for r in rows:
        if r["fg"] is None or r["bg"] is None:
            print(f"  missing preset file: pair {r['pair']}: {r['fg_ref'] if r['fg'] is None else r['bg_ref']}", file=sys.stderr)
    if not present:
        print(f"0 of {read.rows_in} manifest rows have both preset files in {pack}")
        return EXIT_NOTHING
    cache = FrameCache(settings, args.cache)
    files = library.scan(sorted({str(r["fg"]) for r in present} | {str(r["bg"]) for r in present}), f"pack:{pack.name}")
    status = render_presets(
        library.jobs(files), settings, cache, workers=args.workers, timeout=args.timeout, retry=_retry(args), ray=args.ray
    )
    by_path = library.ids_by_path([r["fg"] for r in present] + [r["bg"] for r in present])
    ok = lambda p: status.get(by_path.get(str(p)), {}).get("status") == OK  # noqa: E731
    kept = [r for r in present if ok(r["fg"]) and ok(r["bg"])]
    print(
        f"{len(kept)} of {read.rows_in} manifest rows scored ({len(read.set_aside)} set aside, "
        f"{len(rows) - len(present)} missing a file, {len(present) - len(kept)} with a layer not rendered ok)"
    )
    if not kept:
        return EXIT_NOTHING
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
    n = tables.write_jsonl(tables.eval_rows(read.pack, pair, fg, bg, res, rms, peak, wd, cd), out / "eval.jsonl")
    from aivj.contract.layout import write_dataset

    presets, _ = library.preset_table([f for f in files if f.id in set(ids)], bank)
    table = tables.pairs_table(read.pack, pair, fg, bg, res, f"refinery:{read.pack}", "train")
    write_dataset(presets, table, out, {"pack": read.pack})
    s = res["score"]
    print(
        f"wrote {n} eval rows and {len(kept)} pairs to {out}; score mean {s.mean():.2f}, >=4: {(s >= 4).sum()}, <=2: {(s <= 2).sum()}"
    )
    if args.events:  # the streaming reweighter tails these (docs/streaming.md)
        from aivj.contract.score_event_log import write_score_events

        cols = table.select(["pair", "score", "rank"]).to_pydict()
        log = write_score_events(args.events, "refine score", read.pack, cols["pair"], cols["score"], cols["rank"], fg, bg)
        print(f"appended {len(kept)} score events to {log}")
    return EXIT_OK if len(kept) == read.rows_in else EXIT_PARTIAL


def cmd_alchemy(args) -> int:
    from aivj.refinery import alchemy, library
    from aivj.refinery.render import render_presets

    seeds = [f.path for f in library.scan(args.seeds, "seed")]
    manifest = alchemy.generate(seeds, Path(args.out), args.pairs, seed=args.seed, couple_fraction=args.couple_fraction)
    print(f"wrote {args.pairs} pairs: {manifest}")
    if not args.no_render:
        files = library.scan([Path(args.out) / "fg", Path(args.out) / "bg"], "alchemy")
        res = render_presets(
            library.jobs(files), _settings(args), workers=args.workers, timeout=args.timeout, retry=_retry(args), ray=args.ray
        )
        counts = collections.Counter(r["status"] for r in res.values())
        print("rendered: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


def _collections(specs: list[str] | None) -> list[tuple[str, Path]] | None:
    """``NAME=DIR`` or ``DIR`` (named after the folder) -> [(name, folder)]; a missing folder is an error."""
    out = []
    for spec in specs or []:
        name, sep, folder = spec.partition("=")
        folder, name = (Path(folder), name) if sep else (Path(spec), Path(spec).name)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: --presets needs a folder of .milk files")
        out.append((name, folder))
    return out or None


def cmd_build(args) -> int:
    from aivj.refinery.dataset import build

    command = "aivj refine build " + " ".join(args.raw)
    info = build(
        Path(args.out),
        n_pairs=args.pairs,
        n_alchemy=args.alchemy,
        n_golden=args.golden,
        workers=args.workers,
        timeout=args.timeout,
        seed=args.seed,
        settings=_settings(args),
        command=command.strip(),
        collections=_collections(args.presets),
        n_unseen_pairs=args.unseen_pairs,
        cache_root=args.cache,
        ray=args.ray,
    )
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
    p.add_argument(
        "--events", metavar="DIR", default=None, help="also append one score/rank event per pair to DIR/refinery_v2_<date>.log"
    )
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
    p.add_argument("--unseen-pairs", type=int, default=6_000, help="test_unseen pairs among held-out presets")
    p.add_argument(
        "--presets",
        nargs="+",
        metavar="[NAME=]DIR",
        help="preset collections, each a folder (default: projectm-data=/usr/share/projectM/presets)",
    )
    p.add_argument("--seed", type=int, default=0)
    _render_args(p)
    p = sub.add_parser("build-shim", help="compile the projectM shim into build/native/")
    p.add_argument("--force", action="store_true")
    coupling_cli.add_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.raw = argv[1:]
    handler = {"render": cmd_render, "score": cmd_score, "alchemy": cmd_alchemy, "build": cmd_build, "build-shim": cmd_build_shim}
    handler["coupling"] = coupling_cli.cmd_coupling
    try:
        return handler[args.cmd](args)
    except (RefineryUnavailable, ValueError, OSError, RuntimeError) as exc:  # RuntimeError: a worker's fatal line
        if debug_enabled():
            raise
        print(f"aivj refine: {one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
