"""The ``aivj`` console entry point: one subcommand per subsystem, each loaded only when used.

Each subsystem exposes ``main(argv: list[str]) -> int`` so ``aivj X ...`` and
``python -m aivj.X.cli ...`` behave the same and importing the CLI stays cheap.
"""

from __future__ import annotations

import importlib
import sys

SUBCOMMANDS = {
    "ingest": ("aivj.ingest.cli", "convert aidata packs into the partitioned Parquet dataset"),
    "refine": ("aivj.refinery.cli", "render presets, score pairs, alchemy, build the default dataset"),
    "registry": ("aivj.registry.cli", "list / show / promote / rollback / verify / prune model versions"),
    "export": ("aivj.export.cli", "write pairs-quality.v0.json for a pack, or an ONNX model"),
    "pipeline": ("scripts.run_full_training", "ingest -> search -> train -> gate -> promote -> report -> export"),
}


def _usage() -> str:
    lines = ["usage: aivj <command> [args...]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"aivj: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(SUBCOMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
