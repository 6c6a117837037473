"""``aivj stream tail|work|topk|status|emit``: the streaming reweighter's command line (docs/streaming.md)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from aivj.cli import debug_enabled, one_line

EXIT_OK, EXIT_NOTHING = 0, 2


def _setup(args):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from aivj.home import state_dir
    from aivj.stream import config
    from aivj.stream.keys import Keys

    cfg = config.load(args.config, args.set)
    # no hidden retries: topk/status fail in one line, tail/work loops back off on their own
    r = redis.Redis.from_url(cfg.redis_url, socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 0))
    return cfg, r, Keys(cfg.key_prefix), state_dir("stream")


def _stopper():
    stop = {"now": False}

    def handler(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return lambda: stop["now"]


def _metrics(args, r, keys):
    """The stream metrics; with ``--serve`` on an app (create_app) serving them at /metrics on --host:--port."""
    from aivj.stream.metrics import StreamMetrics

    if not args.serve:
        return StreamMetrics.create()
    from aivj.services.serve import serve
    from aivj.stream.app import stream_app

    app, metrics = stream_app(r, keys)
    serve(app, args.host, args.port, background=True)
    print(f"aivj stream {args.cmd}: /metrics and /topk on http://{args.host}:{args.port}", file=sys.stderr)
    return metrics


def _issue_key(args) -> bool:
    from aivj.services.cli import issue_key
    from aivj.services.settings import ServiceSettings

    return issue_key(args, ServiceSettings(name="stream"))


def cmd_tail(args) -> int:
    import redis

    from aivj.services.logs import redact_url
    from aivj.stream import config
    from aivj.stream.tailer import Tailer

    if _issue_key(args):
        return EXIT_OK
    cfg, r, keys, state = _setup(args)
    folder = Path(args.folder) if args.folder else config.log_dir(cfg)
    metrics = _metrics(args, r, keys)
    tailer = Tailer(r, keys, folder, cfg.tail.pattern, state, int(cfg.tail.maxlen), int(cfg.tail.batch_lines), metrics)
    stop, backoff = _stopper(), 0.1
    print(f"tailing {folder}/{cfg.tail.pattern} -> {redact_url(cfg.redis_url)} {keys.stream}", file=sys.stderr)
    try:
        while not stop():
            try:
                n = tailer.poll_once()
                backoff = 0.1
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
                print(f"aivj stream tail: Redis unavailable ({one_line(exc)}); retrying in {backoff:.1f} s", file=sys.stderr)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if args.once:
                break
            if n == 0:
                time.sleep(float(cfg.tail.poll_s))
    finally:
        tailer.close()
    c = tailer.counts
    print(f"{c['lines']} lines read: {c['published']} published, {c['quarantined']} quarantined ({tailer.quarantine_path})")
    return EXIT_OK


def cmd_work(args) -> int:
    from aivj.stream.weights import WeightParams
    from aivj.stream.worker import Worker, default_consumer

    if _issue_key(args):
        return EXIT_OK
    cfg, r, keys, _ = _setup(args)
    w = cfg.work
    metrics = _metrics(args, r, keys)
    worker = Worker(
        r,
        keys,
        WeightParams.from_config(cfg.weights),
        w.group,
        args.consumer or w.consumer or default_consumer(),
        batch=int(w.batch),
        block_ms=int(w.block_ms) if not args.once else 100,
        claim_idle_ms=int(w.claim_idle_ms),
        claim_every_s=float(w.claim_every_s),
        dedup_ttl_s=int(w.dedup_ttl_s),
        metrics=metrics,
    )
    warn = lambda exc: print(f"aivj stream work: Redis unavailable ({one_line(exc)}); retrying", file=sys.stderr)  # noqa: E731
    worker.run(stop=_stopper(), idle_exit=args.once, on_error=warn)
    print(", ".join(f"{k} {v}" for k, v in worker.counts.items()) + f"; pending {worker.pending()}")
    return EXIT_OK


def cmd_topk(args) -> int:
    from aivj.stream import reader

    if args.k < 1:
        raise ValueError(f"-k {args.k}: must be 1 or more")
    _, r, keys, _ = _setup(args)
    ranked = reader.topk(r, keys, args.pack, args.k)
    if args.json:
        print(json.dumps([{**x.details, "pair": x.pair, "weight": x.weight} for x in ranked]))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"top {args.k} of pack {args.pack}")
        for col in ("pair", "weight", "score", "rank", "events", "last event (UTC)"):
            table.add_column(col)
        for x in ranked:
            d = x.details
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(d.get("time", 0))))
            table.add_row(str(x.pair), f"{x.weight:.4f}", d.get("score", ""), d.get("rank", ""), d.get("n", ""), when)
        Console().print(table)
    if not ranked:
        print(f"pack {args.pack}: no weights in Redis ({keys.topk(args.pack)} is empty)", file=sys.stderr)
        return EXIT_NOTHING
    return EXIT_OK


def cmd_status(args) -> int:
    cfg, r, keys, state = _setup(args)
    out = {"stream": keys.stream, "length": r.xlen(keys.stream), "packs": r.scard(keys.packs), "groups": []}
    for g in r.xinfo_groups(keys.stream) if r.exists(keys.stream) else []:
        g = {(k.decode() if isinstance(k, bytes) else k): v for k, v in g.items()}
        out["groups"].append({k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.items()})
    tailer_state = state / "tailer.json"
    out["tailer"] = json.loads(tailer_state.read_text())["counts"] if tailer_state.exists() else None
    print(json.dumps(out, indent=2, default=str))
    return EXIT_OK


def cmd_emit(args) -> int:
    """Append events to the log by hand (a demo, or feeding a test without the refinery)."""
    from aivj.contract.score_event_log import EventLogWriter
    from aivj.stream import config

    cfg = config.load(args.config, args.set)
    from aivj.contract.score_events import parse

    writer = EventLogWriter(Path(args.folder) if args.folder else config.log_dir(cfg), source="aivj stream emit")
    event = writer.event(args.pack, args.pair, args.score, args.rank)
    parse(event.line())  # a bad score or rank fails here in one line, not later in the quarantine
    n = writer.write([event])
    print(f"wrote {n} event to {writer.path()}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    from aivj.configs import config_options
    from aivj.services.cli import add_service_args

    common = config_options("stream", config_file=True)
    ap = argparse.ArgumentParser(prog="aivj stream", description="score/rank events -> Redis -> live sampling weights")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser(
        "tail", parents=[common], help="follow refinery_v2_*.log files and publish their events to the Redis Stream"
    )
    p.add_argument("--folder", default=None, help="log folder (default: the config's log_dir)")
    p.add_argument("--once", action="store_true", help="publish what is there now and exit")
    p.add_argument("--serve", action="store_true", help="serve /metrics (quarantined events) and /topk on --host:--port")
    add_service_args(p, "stream-tail")
    p = sub.add_parser("work", parents=[common], help="apply events to the per-pack sorted sets (a consumer-group worker)")
    p.add_argument("--consumer", default=None, help="consumer name (default: <host>-<pid>)")
    p.add_argument("--once", action="store_true", help="apply what is waiting now and exit")
    p.add_argument("--serve", action="store_true", help="serve /metrics and /topk on --host:--port")
    add_service_args(p, "stream-work")
    p = sub.add_parser("topk", parents=[common], help="the k highest-weighted pairs of a pack")
    p.add_argument("pack")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--json", action="store_true")
    sub.add_parser("status", parents=[common], help="stream length, consumer groups and pending entries, tailer counts")
    p = sub.add_parser("emit", parents=[common], help="append one event to the log (demo)")
    p.add_argument("pack")
    p.add_argument("pair", type=int)
    p.add_argument("score", type=float)
    p.add_argument("rank", type=int)
    p.add_argument("--folder", default=None)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    handler = {"tail": cmd_tail, "work": cmd_work, "topk": cmd_topk, "status": cmd_status, "emit": cmd_emit}
    import redis

    try:
        return handler[args.cmd](args)
    except (ValueError, OSError, RuntimeError, redis.RedisError) as exc:
        if debug_enabled():
            raise
        print(f"aivj stream {args.cmd}: {one_line(exc)}", file=sys.stderr)
        return EXIT_NOTHING


if __name__ == "__main__":
    raise SystemExit(main())
