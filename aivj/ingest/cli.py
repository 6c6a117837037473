"""``aivj ingest INPUT... --output DIR [--sample N] [--strict]`` (same as scripts/convert_to_parquet.py).

Exit codes: 0 converted (possibly with quarantined rows), 1 nothing converted or --strict hit a
quarantined row, 2 bad arguments or unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aivj ingest",
        description="Convert aidata packs (coupled, runtime, elite, deep_alchemy, eval labels) into partitioned Parquet.",
    )
    p.add_argument("inputs", nargs="+", type=Path, help="an aidata root, a pack folder or a manifest file")
    p.add_argument("--output", "-o", required=True, type=Path, help="dataset folder to write")
    p.add_argument("--sample", type=int, default=None, help="read only the first N pairs of each manifest")
    p.add_argument("--strict", action="store_true", help="fail (exit 1) when any row is quarantined")
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: CPU count)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from aivj.cli import debug_enabled, one_line
    from aivj.ingest.convert import ConvertError, convert
    from aivj.ingest.sources import SourceError

    for flag, value in (("--sample", args.sample), ("--workers", args.workers)):
        if value is not None and value < 1:
            print(f"aivj ingest: {flag} {value}: must be 1 or more", file=sys.stderr)
            return 2
    try:
        result = convert(
            args.inputs, args.output, sample=args.sample, strict=args.strict, workers=args.workers, progress=not args.no_progress
        )
    except (SourceError, ConvertError, OSError) as exc:
        if debug_enabled():
            raise
        print(f"aivj ingest: {one_line(exc)}", file=sys.stderr)
        return 1 if isinstance(exc, ConvertError) else 2
    s = result.summary
    print(
        f"{args.output}: {s['rows_written']} pairs written, {s['rows_quarantined']} quarantined of {s['rows_in']} rows "
        f"({s['presets']} presets, {s['presets_parsed']} parsed, {s['presets_cached']} cached, {s['pairs_new']} new pairs)"
    )
    for reason, n in s["quarantine_reasons"].items():
        print(f"  quarantined: {reason}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
