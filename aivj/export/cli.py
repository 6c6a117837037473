"""``aivj export pairs-quality --pack DIR [--model VERSION|CKPT] [--out FILE]`` and ``aivj export onnx``.

``--model`` defaults to the registry champion (``--registry`` or $AIVJ_REGISTRY or models/).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj export", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pq = sub.add_parser("pairs-quality", help="score a pack's pairs into pairs-quality.v0.json")
    pq.add_argument("--pack", required=True, type=Path, help="pack folder with manifest.jsonl or pairs-manifest.v0.json")
    pq.add_argument("--out", type=Path, help="default: PACK/pairs-quality.v0.json")
    ox = sub.add_parser("onnx", help="export the network as ONNX with a dynamic batch")
    ox.add_argument("--out", required=True, type=Path)
    ox.add_argument("--benchmark", action="store_true", help="also time 10,000 pairs with torch and onnxruntime")
    for s in (pq, ox):
        s.add_argument("--model", default=None, help="registry version or checkpoint (default: the champion)")
        s.add_argument("--registry", default=None, help="registry folder")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from aivj.export.model import load_model
    from aivj.registry.store import RegistryError, write_text_atomic

    try:
        model, label = load_model(args.model, args.registry)
        if args.cmd == "pairs-quality":
            from aivj.export.pairs_quality import pairs_quality

            doc = pairs_quality(args.pack, model)
            out = args.out or args.pack / "pairs-quality.v0.json"
            write_text_atomic(out, json.dumps(doc, indent=2) + "\n")
            stats = doc["qualityStats"]
            print(f"{out}: {len(doc['pairs'])} pairs scored with {label}, {doc['stats']['missingFiles']} missing "
                  f"file(s), mean {stats['mean']:.3f}, std {stats['std']:.3f}")
            return 0
        from aivj.export.onnx_export import benchmark, export_onnx

        info = export_onnx(model, args.out)
        print(f"{info['path']}: exported {label}; onnxruntime vs torch max abs diff {info['max_abs_diff']:.2e}")
        if args.benchmark:
            print(json.dumps(benchmark(model, args.out), indent=2))
        return 0
    except (ValueError, RegistryError, RuntimeError, OSError) as exc:
        print(f"aivj export: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
