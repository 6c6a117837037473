"""``aivj export pairs-quality --pack DIR [--render auto|always|never] [--score model|refinery] ...`` and ``aivj export onnx``.

``--model`` defaults to the registry's default champion (the writable registry's, else the shipped
one in models/). ``auto`` renders the pack's presets through the refinery when projectM is installed
and scores with render descriptors, else falls back to static features with one warning line;
``always`` requires renders, ``never`` uses static features. A version is refused (exit 2, one
line) on a path it has no passing figures for. Exit codes: 0 written, 1 written with pairs set
aside (the sidecar says which), 2 nothing written. docs/export.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj export", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pq = sub.add_parser("pairs-quality", help="score a pack's pairs into pairs-quality.v0.json (+ .meta.json)")
    pq.add_argument("--pack", required=True, type=Path, help="pack folder with manifest.jsonl or pairs-manifest.v0.json")
    pq.add_argument("--out", type=Path, help="default: PACK/pairs-quality.v0.json")
    pq.add_argument(
        "--render",
        default="auto",
        choices=("auto", "always", "never"),
        help="render the presets with projectM: auto (when installed), always, never (static features)",
    )
    pq.add_argument(
        "--score",
        default="model",
        choices=("model", "refinery"),
        help="ship the model's score, or the refinery's exact score (needs renders)",
    )
    pq.add_argument("--workers", type=int, default=None, help="render worker processes (default: one per core)")
    pq.add_argument("--cache-dir", type=Path, default=None, help="frame cache root (default: $AIVJ_HOME/cache/refinery)")
    pq.add_argument("--preview", type=Path, default=None, help="also write an HTML contact sheet of the top and bottom pairs")
    pc = sub.add_parser("pairs-coupling", help="each pair's coupling setting into pairs-coupling.v0.json (docs/coupling.md)")
    pc.add_argument("--pack", required=True, type=Path, help="pack folder with manifest.jsonl or pairs-manifest.v0.json")
    pc.add_argument("--out", type=Path, help="default: PACK/pairs-coupling.v0.json")
    pc.add_argument("--render", default="auto", choices=("auto", "always", "never"), help="as for pairs-quality")
    pc.add_argument("--workers", type=int, default=None, help="render worker processes (default: one per core)")
    pc.add_argument("--cache-dir", type=Path, default=None, help="frame cache root (default: $AIVJ_HOME/cache/refinery)")
    ox = sub.add_parser("onnx", help="export the network as ONNX with a dynamic batch")
    ox.add_argument("--out", required=True, type=Path)
    ox.add_argument("--benchmark", action="store_true", help="also time 10,000 pairs with torch and onnxruntime")
    ox.add_argument(
        "--cached",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write encoder.onnx, pairs.onnx and block.onnx into DIR: presets encoded once, then pairs or a block "
        "of candidates scored from that cache (docs/model.md)",
    )
    for s in (pq, pc, ox):
        s.add_argument("--model", default=None, help="registry version or checkpoint (default: the champion)")
        s.add_argument("--registry", default=None, help="registry folder")
    return p


CACHED_GRAPHS = ("encoder.onnx", "pairs.onnx", "block.onnx")


def _check_cached(scorer, out: Path, cached: Path) -> None:
    from aivj.inference.onnx import check_block_net

    try:
        check_block_net(scorer.net)
    except ValueError as exc:
        raise ValueError(f"{scorer.label}: {exc}") from None
    if out.resolve().parent == cached.resolve() and out.name in CACHED_GRAPHS:
        raise ValueError(f"--out {out} would be overwritten by the cached graph of that name in --cached {cached}")


def _export_cached(net, cached: Path) -> list[str]:
    """The three cached graphs, written into a scratch folder inside ``cached`` and moved into place only once
    all three exist and block.onnx passed its check: a failed export leaves the folder as it was."""
    import shutil
    import tempfile

    from aivj.inference.onnx import export_block_onnx, export_split_onnx

    cached.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".cached-", dir=cached))
    try:
        export_split_onnx(net, scratch)
        export_block_onnx(net, scratch)
        for name in CACHED_GRAPHS:
            (scratch / name).replace(cached / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return list(CACHED_GRAPHS)


def meta_path(out: Path) -> Path:
    """pairs-quality.v0.json -> pairs-quality.v0.meta.json beside it."""
    return out.with_name((out.name[:-5] if out.name.endswith(".json") else out.name) + ".meta.json")


def _pairs_quality(args, choice, say) -> int:
    from aivj.contract.atomic import write_text_atomic
    from aivj.export import gate as g
    from aivj.export.pack_export import export_pack
    from aivj.inference import load_scorer

    if args.workers is not None and args.workers < 1:
        raise g.ExportRefused(f"--workers {args.workers}: need at least 1 worker process")
    if not args.pack.is_dir():
        raise g.ExportRefused(f"{args.pack}: not a pack folder")
    path, problem = g.choose_path(args.render, args.score)
    try:
        gate_line = g.gate(choice, path) if args.score == "model" else "not applied: --score refinery ships the refinery's score"
    except g.ExportRefused as exc:
        raise g.ExportRefused(f"no renders ({problem.split(';')[0]}) and {exc}" if problem else str(exc)) from None
    if problem:
        print(g.fallback_warning(choice, problem), file=sys.stderr)
    scorer = load_scorer(choice.spec, args.registry)
    label = scorer.label
    scored = export_pack(args.pack, scorer.model, path, args.score, args.workers, args.cache_dir, progress=sys.stderr.isatty())
    out = args.out or args.pack / "pairs-quality.v0.json"
    meta = {
        **scored.meta,
        "model": label,
        "gate": gate_line,
        "render_mode": args.render,
        "path_figures": g.figures(choice, path),
        "metrics_file": str(choice.metrics_file) if choice.metrics_file else None,
        "fallback_reason": problem or None,
        "out": str(out),
    }
    write_text_atomic(out, json.dumps(scored.doc, indent=2) + "\n")
    write_text_atomic(meta_path(out), json.dumps(meta, indent=2, sort_keys=True) + "\n")
    if args.preview is not None:
        from aivj.export.preview import pack_sheet

        sheet = pack_sheet(scored, args.preview)
        say(f"{sheet}: contact sheet" if sheet else "aivj export: no preview: the contact sheet needs renders")
    stats, pairs, r = scored.doc["qualityStats"], meta["pairs"], meta["renders"]
    rendered = (
        (
            f"; renders: {r['rendered']} rendered, {r['cached']} cached, {r['failed']} failed"
            f" ({pairs['with_dead_layer']} pair(s) with a dead layer)"
        )
        if r
        else ""
    )
    agree = meta.get("agreement_with_refinery") or {}
    vs = (
        f"; vs refinery: pairwise {agree['pairwise_acc']:.3f}, spearman {agree['spearman']:.3f}"
        if agree.get("pairwise_acc") is not None and agree.get("spearman") is not None
        else ""
    )
    say(
        f"{out}: {pairs['written']} of {pairs['in']} pairs scored ({args.score}, {path} path) with {label}, "
        f"{pairs['set_aside']} set aside, mean {stats['mean']:.3f}, std {stats['std']:.3f}{rendered}{vs}"
    )
    return 1 if pairs["set_aside"] else 0


def _pairs_coupling(args, choice, say) -> int:
    from aivj.contract.atomic import write_text_atomic
    from aivj.export import gate as g
    from aivj.export.pairs_coupling import export_coupling
    from aivj.inference import load_scorer

    if not args.pack.is_dir():
        raise g.ExportRefused(f"{args.pack}: not a pack folder")
    path, problem = g.choose_path(args.render, "model")
    g.gate(choice, path)  # the same path gate as the quality file: one model, one set of figures
    if problem:
        print(g.fallback_warning(choice, problem), file=sys.stderr)
    scorer = load_scorer(choice.spec, args.registry)
    if not scorer.has_coupling:  # before reading the pack: nothing to write without a head
        raise g.ExportRefused(f"{scorer.label}: the model has no coupling head (train one with experiment=full_coupling)")
    doc = export_coupling(args.pack, scorer, path, args.workers, args.cache_dir, progress=sys.stderr.isatty())
    out = args.out or args.pack / "pairs-coupling.v0.json"
    write_text_atomic(out, json.dumps(doc, indent=2) + "\n")
    missing = doc["stats"]["missingFiles"]
    say(
        f"{out}: coupling of {doc['stats']['pairs']} pairs ({path} path) with {scorer.label}, {missing} missing file reference(s)"
    )
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from aivj.export.gate import ExportRefused, choose_model
    from aivj.refinery.native import RefineryUnavailable
    from aivj.registry.store import RegistryError

    say = print
    try:
        choice = choose_model(args.model, args.registry)
        if args.cmd == "pairs-quality":
            return _pairs_quality(args, choice, say)
        if args.cmd == "pairs-coupling":
            return _pairs_coupling(args, choice, say)
        from aivj.inference import load_scorer
        from aivj.inference.onnx import benchmark, export_onnx

        scorer = load_scorer(choice.spec, args.registry)
        model = scorer.model
        if args.cached is not None:  # refused before anything is written: exit 2 means nothing written
            _check_cached(scorer, args.out, args.cached)
        info = export_onnx(model, args.out)
        print(f"{info['path']}: exported {scorer.label}; onnxruntime vs torch max abs diff {info['max_abs_diff']:.2e}")
        if args.cached is not None:
            print(f"{args.cached}: {', '.join(_export_cached(scorer.net, args.cached))} (block.onnx checked against torch)")
        if args.benchmark:
            print(json.dumps(benchmark(model, args.out), indent=2))
        return 0
    except (ExportRefused, RefineryUnavailable, ValueError, RegistryError, RuntimeError, OSError) as exc:
        if os.environ.get("AIVJ_DEBUG"):
            raise
        print(f"aivj export: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
