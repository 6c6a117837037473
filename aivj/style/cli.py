"""``aivj style train|predict|pick|generate|export|evaluate``: the music style engine (docs/style.md).

Exit codes (docs/errors.md): 0 success, 1 partial (some files could not be read), 2 nothing usable.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

from aivj.home import project_root

EXIT_PARTIAL, EXIT_NOTHING = 1, 2
DEFAULT_EXPERIMENT = "style_cnn_lstm"


def _train(args) -> int:
    overrides = list(args.overrides)
    if not any(o.startswith(("experiment=", "+experiment=")) for o in overrides):
        overrides.insert(0, f"experiment={DEFAULT_EXPERIMENT}")
    cmd = [sys.executable, str(project_root() / "train.py"), *overrides]
    print("aivj style train: " + " ".join(cmd[1:]), file=sys.stderr)
    return subprocess.call(cmd, cwd=project_root())


def _generate(args) -> int:
    from aivj.style import DEFAULT_LABELS
    from aivj.style.generate import generate_corpus, read_manifest

    styles = args.styles.split(",") if args.styles else list(DEFAULT_LABELS)
    manifest = generate_corpus(Path(args.out), styles, args.per_style, args.seconds, args.seed, args.sample_rate)
    rows = read_manifest(manifest)
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")}
    print(f"aivj style generate: {len(rows)} tracks ({', '.join(f'{k} {v}' for k, v in counts.items())}) -> {manifest}")
    return 0


def _model(spec: str, registry: str | None):
    from aivj.style.store import load_style_model

    return load_style_model(spec, registry)


def _predict(args) -> int:
    from aivj.style.audio import AudioError
    from aivj.style.predict import predict_file
    from aivj.style.stream import StyleSmoother

    model, label = _model(args.model, args.registry)
    writer = csv.writer(sys.stdout, lineterminator="\n") if args.format == "csv" else None
    if writer:
        writer.writerow(["file", "style", "confidence"])
    failed = 0
    for path in args.files:
        try:
            result = predict_file(model, path)
        except AudioError as exc:
            print(f"aivj style predict: {exc}", file=sys.stderr)
            failed += 1
            continue
        if writer:
            writer.writerow([path, result.style, f"{result.confidence:.4f}"])
        else:
            probs = ", ".join(f"{n} {p:.2f}" for n, p in zip(result.labels, result.probs))
            print(f"{path}: {result.style} ({result.confidence:.2f}; {probs}) [{label}]")
        if args.stream:
            smoother = StyleSmoother(result.labels)
            hop = model.hparams.spec["window_hop"] * model.hparams.spec["hop"] / model.hparams.spec["sample_rate"]
            for i, (style, p) in enumerate(smoother.run(result.window_probs)):
                print(f"#   {i * hop:7.2f}s {style} {p:.2f}", file=sys.stderr)
    if failed == len(args.files):
        return EXIT_NOTHING
    return EXIT_PARTIAL if failed else 0


def _pick(args) -> int:
    from aivj.inference import load_scorer
    from aivj.style.pick import categories_by_hash, rank_pack
    from aivj.style.predict import predict_file
    from aivj.style.visuals import blend, load_mapping

    model, _ = _model(args.model, args.registry)
    music = predict_file(model, args.audio)
    profile = blend(music.probs, music.labels, load_mapping(args.mapping))
    dataset = Path(args.dataset) if args.dataset else project_root() / "data" / "default"
    ranked = rank_pack(Path(args.pack), load_scorer(args.scorer), profile, music.confidence, categories_by_hash(dataset))
    ranges = "; ".join(f"{k} {lo:.2f}-{hi:.2f}" for k, (lo, hi) in profile.ranges.items())
    print(f"# {args.audio}: {music.style} ({music.confidence:.2f}); {ranges}", file=sys.stderr)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["rank", "pair", "final", "quality01", "style_fit", "coupling", "fg", "bg"])
    for i, r in enumerate(ranked[: args.k], start=1):
        coupling = "" if r.coupling is None else f"{r.coupling:.3f}"
        writer.writerow([i, r.pair, f"{r.final:.4f}", f"{r.quality01:.4f}", f"{r.style_fit:.3f}", coupling, r.fg, r.bg])
    return 0


def _export(args) -> int:
    from aivj.style.onnx import export_style_onnx

    model, label = _model(args.model, args.registry)
    result = export_style_onnx(model, Path(args.out))
    print(f"aivj style export: {label} -> {result['path']} ({result['size_kb']} KB, inputs {', '.join(result['inputs'])}, "
          f"max |onnx - torch| {result['max_abs_diff']:.2g}); front end -> {result['frontend']}")  # fmt: skip
    return 0


def _evaluate(args) -> int:
    from aivj.home import state_dir
    from aivj.style.evaluate import evaluate

    model, label = _model(args.model, args.registry)
    root = args.root or (None if args.csv else state_dir("cache") / "style" / "generated")
    result = evaluate(model, root, args.csv, args.split)
    text = json.dumps({"model": label, **result}, indent=2)
    if args.json:
        from aivj.contract.atomic import write_text_atomic

        write_text_atomic(Path(args.json), text + "\n")
    print(text)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj style", description="music style: audio -> style -> visual coupling parameters")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train.py with experiment=style_cnn_lstm (Hydra overrides pass through)")
    t.add_argument("overrides", nargs=argparse.REMAINDER)
    g = sub.add_parser("generate", help="write a labelled corpus with fluidsynth (deterministic)")
    g.add_argument("--out", required=True)
    g.add_argument("--per-style", type=int, default=30)
    g.add_argument("--seconds", type=float, default=20.0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--sample-rate", type=int, default=22050)
    g.add_argument("--styles", default=None, help="comma-separated (default: the six labels)")
    model_args = argparse.ArgumentParser(add_help=False)
    model_args.add_argument("--model", default="champion", help="style registry version, checkpoint path, or champion")
    model_args.add_argument("--registry", default=None, help="style registry folder (default $AIVJ_HOME/registry/style)")
    pr = sub.add_parser("predict", parents=[model_args], help="one style per file (windows aggregated)")
    pr.add_argument("files", nargs="+")
    pr.add_argument("--format", choices=("csv", "text"), default="text")
    pr.add_argument("--stream", action="store_true", help="also the smoothed per-window timeline (stderr)")
    pk = sub.add_parser("pick", parents=[model_args], help="re-rank a pack's pairs for a piece of music")
    pk.add_argument("--audio", required=True)
    pk.add_argument("--pack", required=True)
    pk.add_argument("-k", type=int, default=10)
    pk.add_argument("--scorer", default="champion", help="the coupling model (aivj.inference.load_scorer spec)")
    pk.add_argument("--dataset", default=None, help="presets.parquet folder for preset categories (default data/default)")
    pk.add_argument("--mapping", default=None, help="style-to-visuals YAML (default conf/style/visuals.yaml)")
    ex = sub.add_parser("export", parents=[model_args], help="ONNX (dynamic batch) + the front end as JSON")
    ex.add_argument("--out", default="style.onnx")
    ev = sub.add_parser("evaluate", parents=[model_args], help="macro F1 of the model and the app's hand rule")
    ev.add_argument("--root", default=None, help="labelled folder or corpus (default: the generated corpus)")
    ev.add_argument("--csv", default=None)
    ev.add_argument("--split", default="test")
    ev.add_argument("--json", default=None)
    return p


COMMANDS = {"train": _train, "generate": _generate, "predict": _predict, "pick": _pick, "export": _export, "evaluate": _evaluate}


def main(argv: list[str] | None = None) -> int:
    from aivj.registry.store import RegistryError
    from aivj.style.audio import AudioError
    from aivj.style.generate import GeneratorError
    from aivj.style.tracks import TrackListError

    args = _parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args) or 0)
    except (AudioError, GeneratorError, TrackListError, RegistryError, ValueError) as exc:
        print(f"aivj style {args.command}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_NOTHING


if __name__ == "__main__":
    raise SystemExit(main())
