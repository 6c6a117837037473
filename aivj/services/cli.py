"""The options every service's command line shares: ``--host``, ``--port`` (a default port per service,
the table in docs/monitoring.md), ``--issue-key CLIENT``."""

from __future__ import annotations

import argparse

from aivj.services.keys import KeyStore
from aivj.services.settings import ServiceSettings

# One default port per service, so two of them on one machine do not collide (docs/monitoring.md).
PORTS = {"scoring": 8000, "stream-work": 8002, "stream-tail": 8003, "feedback": 8010, "market": 8020}


def add_service_args(parser: argparse.ArgumentParser, service: str, address: bool = True) -> None:
    """``--issue-key``; with ``address`` also ``--host`` and ``--port`` (default: ``PORTS[service]``)."""
    if address:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=PORTS[service], help=f"default {PORTS[service]}")
    parser.add_argument("--issue-key", metavar="CLIENT", default=None, help="print a new API key for CLIENT and exit")


def issue_key(args: argparse.Namespace, settings: ServiceSettings) -> bool:
    """With ``--issue-key``: print a new key for that client (only its hash is stored) and say so."""
    if not getattr(args, "issue_key", None):
        return False
    print(KeyStore(settings.keys_file()).issue(args.issue_key))
    return True
