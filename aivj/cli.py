"""The ``aivj`` console entry point: one subcommand per subsystem, each loaded only when used.

Each subsystem exposes ``main(argv: list[str]) -> int`` so ``aivj X ...`` and
``python -m aivj.X.cli ...`` behave the same and importing the CLI stays cheap.

Errors reach the user as one line and an exit code (docs/errors.md: 0 success, 1 partial, 2 nothing
usable); ``aivj --debug ...`` or ``AIVJ_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys

SUBCOMMANDS = {
    "ingest": ("aivj.ingest.cli", "convert aidata packs into the partitioned Parquet dataset"),
    "refine": ("aivj.refinery.cli", "render presets, score pairs, alchemy, build the default dataset"),
    "registry": ("aivj.registry.cli", "list / show / promote / rollback / verify / prune model versions"),
    "export": ("aivj.export.cli", "write pairs-quality.v0.json for a pack, or an ONNX model"),
    "compare": (
        "aivj.compare.cli",
        "two model versions side by side: scores, coupling, composites (SSIM/PSNR); exit 1 on a failed tolerance",
    ),
    "validate": ("aivj.validate", "compose train.py's config with overrides and check it before a long run"),
    "pipeline": ("aivj.pipeline.cli", "ingest -> search -> train -> gate -> promote -> report -> export"),
    "daemon": ("aivj.daemon.cli", "start|status|stop|run-once: find new data, train, gate, promote, report"),
    "serve": ("aivj.serving.cli", "the scoring service: score pairs, a pack's top-k, with the hot-swapped champion"),
    "monitoring": ("aivj.monitoring.cli", "generate the alert rules, Prometheus/Alertmanager examples, Grafana dashboard"),
    "report": ("aivj.report.cli", "release quality report: a candidate against the champion, HTML + Markdown"),
    "stream": ("aivj.stream.cli", "tail refinery_v2_*.log into Redis, apply live weights, read a pack's top-k"),
    "feedback": ("aivj.feedback.cli", "viewer feedback: store counts, the federated preference-head simulation"),
    "ab": ("aivj.ab.cli", "A/B experiments: the report (fixed horizon), power and A/A simulations"),
    "market": ("aivj.market.cli", "elite templates: build the library, serve the page and API, search similar, upload"),
    "style": ("aivj.style.cli", "music style: train|predict|pick|generate|export|evaluate (audio -> style -> visuals)"),
}


EXIT_NOTHING_USABLE = 2


def debug_enabled() -> bool:
    return os.environ.get("AIVJ_DEBUG", "") not in ("", "0")


def one_line(exc: BaseException) -> str:
    """An exception as one line (multi-line messages of pyarrow or torch keep their first line)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _usage() -> str:
    lines = ["usage: aivj [--debug] <command> [args...]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--debug":
        os.environ["AIVJ_DEBUG"] = "1"
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"aivj: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(SUBCOMMANDS[name][0])
        return int(module.main(rest) or 0)
    except KeyboardInterrupt:
        print(f"aivj {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: a bug or an input no check foresaw
        if debug_enabled():
            raise
        print(
            f"aivj {name}: {type(exc).__name__}: {one_line(exc)} (aivj --debug {name} ... shows the traceback)", file=sys.stderr
        )
        return EXIT_NOTHING_USABLE


if __name__ == "__main__":
    raise SystemExit(main())
