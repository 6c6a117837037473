"""``aivj serve``: the scoring service on uvicorn (docs/monitoring.md).

    aivj serve --port 8000 --packs public/presets     # champion of $AIVJ_REGISTRY / $AIVJ_HOME/registry
    aivj serve --issue-key webapp                     # print a new API key for client "webapp" and exit
    aivj serve feedback [--port 8010]                 # the feedback API instead (docs/feedback.md)

Routes need ``X-API-Key`` (keys in $AIVJ_HOME/services/scoring/api_keys.json, hashes only); /health and
/metrics are open for probes and Prometheus.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aivj.registry.store import RegistryError


def _parser() -> argparse.ArgumentParser:
    from aivj.services.cli import add_service_args

    p = argparse.ArgumentParser(prog="aivj serve", description=__doc__.splitlines()[0])
    add_service_args(p, "scoring")
    p.add_argument("--registry", default=None, help="registry folder (default: $AIVJ_REGISTRY, else $AIVJ_HOME/registry)")
    p.add_argument("--packs", type=Path, default=None, help="folder of pack folders for GET /packs/{pack}/top")
    p.add_argument("--poll", type=float, default=2.0, help="seconds between reads of the champion pointer (hot swap)")
    return p


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] == "feedback":  # aivj serve feedback: the feedback API (docs/feedback.md)
        from aivj.feedback.cli import serve_main

        return serve_main(argv[1:])
    args = _parser().parse_args(argv)
    from aivj.services.cli import issue_key
    from aivj.services.serve import ServeError, serve
    from aivj.services.settings import ServiceSettings

    settings = ServiceSettings(name="scoring")
    if issue_key(args, settings):
        return 0
    if args.packs is not None and not args.packs.is_dir():
        print(f"aivj serve: {args.packs}: no such packs folder", file=sys.stderr)
        return 2
    if args.registry is not None and not Path(args.registry).is_dir():  # not the shipped champion in its place
        print(f"aivj serve: --registry {args.registry}: no such registry folder", file=sys.stderr)
        return 2
    from aivj.serving.app import create_scoring_app

    try:
        app = create_scoring_app(settings, args.registry, args.packs, poll_seconds=args.poll)
        print(f"aivj serve: champion {app.state.holder.get().version} on http://{args.host}:{args.port}", file=sys.stderr)
        serve(app, args.host, args.port)
    except (RegistryError, ValueError, ServeError) as exc:
        print(f"aivj serve: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
