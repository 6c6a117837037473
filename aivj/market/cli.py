"""``aivj market``: the elite template market (docs/market.md).

    aivj market build [--limit N]                 # the library from data/default's elite pairs
    aivj market serve [--port 8020]               # the web page and the API (free tier + API keys)
    aivj market serve --issue-key alice           # print a new premium API key for client alice and exit
    aivj market search --template ID | --preset FILE | --pair FG BG [-k 10]
    aivj market upload FG.milk BG.milk --client alice

Exit codes: 0 done; 1 built with templates lacking text or preview (the lines say why); 2 nothing
done (bad arguments, no champion, a rejected upload: one line with the reason).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from aivj.cli import debug_enabled, one_line

EXIT_OK, EXIT_PARTIAL, EXIT_NOTHING = 0, 1, 2


def _scorer(args):
    from aivj.inference import load_scorer

    return load_scorer(args.model, args.registry)


def _store(cfg):
    from aivj.market.config import store_dir
    from aivj.market.store import Store

    return Store(store_dir(cfg), int(cfg.free_top), int(cfg.similar.exact_limit), int(cfg.similar.nprobe))


def cmd_build(args, cfg) -> int:
    from aivj.market.build import build_library
    from aivj.market.config import frame_cache_root, store_dir

    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit {args.limit}: need at least 1 template")
    summary = build_library(cfg, _scorer(args), Path(cfg.dataset), store_dir(cfg), frame_cache_root(cfg), args.limit)
    c = summary["counts"]
    print(
        f"aivj market build: {c['templates']} templates of {c['elite_pairs']} elite pairs "
        f"(scored by {summary['model']} on the {summary['scoring_path']} path) in {store_dir(cfg) / 'library'}"
    )
    print(f"  .milk text: {c['with_text']} with, {c['metadata_only']} metadata-only; previews: {c['with_preview']} with, {c['without_preview']} without")  # fmt: skip
    if c["with_coupling_setting"]:
        print(f"  coupling settings (aivj refine coupling): {c['with_coupling_setting']} of {c['templates']}")
    for folder in summary["preset_folders"]["missing"]:
        print(f"  preset folder not found: {folder} (set preset_folders in conf/market/default.yaml or --set)")
    for note, n in summary["preview_notes"].items():
        print(f"  no preview for {n}: {note}")
    return EXIT_OK if c["metadata_only"] == 0 and c["without_preview"] == 0 else EXIT_PARTIAL


def cmd_serve(args, cfg) -> int:
    from aivj.market.app import create_market_app, market_settings
    from aivj.market.config import frame_cache_root, store_dir
    from aivj.services.cli import issue_key
    from aivj.services.serve import serve

    settings = market_settings(cfg, store_dir(cfg))
    if issue_key(args, settings):
        return EXIT_OK

    store = _store(cfg)
    if not store.elite:
        print(f"aivj market serve: no library in {store.library_dir}; run aivj market build first", file=sys.stderr)
        return EXIT_NOTHING
    app = create_market_app(cfg, store, _scorer(args), frame_cache_root(cfg), settings)
    print(f"aivj market serve: {len(store.elite)} templates on http://{args.host}:{args.port}", file=sys.stderr)
    serve(app, args.host, args.port)
    return EXIT_OK


def _features(path: Path) -> np.ndarray:
    from aivj.market.uploads import check_text

    data = path.read_bytes()
    _, preset = check_text("preset", path.name, data.decode("utf-8", errors="replace"), 10**7)
    from aivj.milk.features import extract_features

    return extract_features(preset)


def cmd_search(args, cfg) -> int:
    store = _store(cfg)
    if args.template:
        record = store.by_id.get(args.template)
        if record is None:
            raise ValueError(f"--template {args.template}: no such template in {store.root}")
        hits = store.nearest("cli", pair=store.space.pair(np.asarray(record["fg"]["features"]), np.asarray(record["bg"]["features"])),
                             k=args.k, exclude=[args.template])  # fmt: skip
    elif args.preset:
        hits = store.nearest("cli", preset=store.space.z(_features(args.preset)), k=args.k)
    else:
        hits = store.nearest("cli", pair=store.space.pair(_features(args.pair[0]), _features(args.pair[1])), k=args.k)
    print(f"nearest of {len(store.elite)} templates ({store.index.kind} search on the standardised feature space):")
    for record, distance in hits:
        print(
            f"  {distance:8.3f}  #{record['rank']:<5} {record['score']:.2f}  {record['id']}  {record['fg']['name']} / {record['bg']['name']}"
        )
    return EXIT_OK


def cmd_upload(args, cfg) -> int:
    from aivj.market.config import frame_cache_root
    from aivj.market.uploads import Rejected, Uploader

    store = _store(cfg)
    body = {
        side: {"name": p.name, "text": p.read_bytes().decode("utf-8", errors="replace")}
        for side, p in (("fg", args.fg), ("bg", args.bg))
    }
    try:
        record = Uploader(store, _scorer(args), cfg, frame_cache_root(cfg)).accept(args.client, body)
    except Rejected as exc:
        print(f"aivj market upload: rejected: {exc.reason}", file=sys.stderr)
        return EXIT_NOTHING
    print(f"aivj market upload: template {record['id']} scored {record['score']:.3f} ({record['scoring']['path']} path): rank {record['rank']} of {len(store.elite)}")  # fmt: skip
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    from aivj.configs import config_options
    from aivj.services.cli import add_service_args

    common = config_options("market", config_file=True)
    common.add_argument("--model", default="champion", help="registry version or checkpoint that scores (default: the champion)")
    common.add_argument("--registry", default=None, help="registry folder (default: $AIVJ_REGISTRY, else $AIVJ_HOME/registry)")
    ap = argparse.ArgumentParser(prog="aivj market", description="elite templates: build, serve, search, upload")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("build", parents=[common], help="package the dataset's elite pairs as templates")
    p.add_argument("--limit", type=int, default=None, help="only the N best by the champion's score")
    p = sub.add_parser("serve", parents=[common], help="the web page and the API (--issue-key: a premium key)")
    add_service_args(p, "market")
    p = sub.add_parser("search", parents=[common], help="nearest templates to a template, a preset or a pair")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--template", default=None)
    group.add_argument("--preset", type=Path, default=None)
    group.add_argument("--pair", type=Path, nargs=2, metavar=("FG", "BG"), default=None)
    p.add_argument("-k", type=int, default=10)
    p = sub.add_parser("upload", parents=[common], help="validate, score and place a pair of .milk files")
    p.add_argument("fg", type=Path)
    p.add_argument("bg", type=Path)
    p.add_argument("--client", required=True, help="the owner the upload is stored for")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from aivj.market import config
    from aivj.registry.store import RegistryError

    handler = {"build": cmd_build, "serve": cmd_serve, "search": cmd_search, "upload": cmd_upload}[args.cmd]
    try:
        return handler(args, config.load(args.config, args.set))
    except (ValueError, OSError, RuntimeError, RegistryError) as exc:
        if debug_enabled():
            raise
        print(f"aivj market {args.cmd}: {one_line(exc)}", file=sys.stderr)
        return EXIT_NOTHING


if __name__ == "__main__":
    raise SystemExit(main())
