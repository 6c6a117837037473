"""``aivj daemon start|status|stop|run-once [KEY=VALUE...]``: the unattended self-training loop (docs/daemon.md).

KEY=VALUE override conf/daemon/default.yaml (``roots=[/mnt/d/aidata] schedule.interval_seconds=1800``).
Exit codes: 0 done, 1 a run failed (run-once) or the daemon is not running (stop), 2 bad arguments or config.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj daemon", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="run the schedule (foreground; --detach: in the background)")
    start.add_argument("--detach", action="store_true", help="start in the background, log to $AIVJ_HOME/daemon/daemon.log")
    once = sub.add_parser("run-once", help="one run now (resumes an interrupted one first)")
    once.add_argument("--full", action="store_true", help="full retrain from scratch")
    for cmd in (start, once):
        cmd.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="conf/daemon overrides")
    st = sub.add_parser("status", help="state, champion, last runs")
    st.add_argument("--json", action="store_true")
    st.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    stop = sub.add_parser("stop", help="SIGTERM the running daemon and wait for it")
    stop.add_argument("--timeout", type=float, default=60.0)
    return p


def _start(args, cfg, home) -> int:
    from aivj.daemon.service import Daemon, daemon_lock

    if args.detach:
        home.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "aivj.daemon.cli", "start", *args.overrides]
        with open(home / "daemon.log", "a") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        print(f"aivj daemon: started (pid {proc.pid}), log {home / 'daemon.log'}")
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with daemon_lock(home):
        app_metrics, server = None, None
        if cfg.status.port:
            server, app_metrics = _status_server(cfg, home)
        daemon = Daemon(cfg, app_metrics)
        print(f"aivj daemon: watching {list(cfg.roots)} every {cfg.schedule.interval_seconds} s (pid {os.getpid()})", flush=True)
        daemon.serve(stop)
        if daemon.busy.locked():  # a run in flight: abandon it holding the lock; its journal resumes it next start
            print("aivj daemon: stopping mid-run; the run resumes at its interrupted step on the next start", flush=True)
            os._exit(0)  # the train.py child gets SIGKILL with us (PR_SET_PDEATHSIG)
        if server is not None:
            server.should_exit = True
    return 0


def _status_server(cfg, home):
    import uvicorn

    from aivj.daemon.config import registry_dir
    from aivj.daemon.metrics import DaemonMetrics
    from aivj.daemon.status import create_status_app

    app = create_status_app(home, registry_dir(cfg))
    server = uvicorn.Server(uvicorn.Config(app, host=str(cfg.status.host), port=int(cfg.status.port), log_level="warning"))
    threading.Thread(target=server.run, daemon=True, name="status-page").start()
    return server, DaemonMetrics(app.state.metrics)


def _run_once(args, cfg, home) -> int:
    from aivj.daemon.service import Daemon, daemon_lock

    with daemon_lock(home):
        report = Daemon(cfg).tick(force_full=args.full)
    if report is None:
        print("aivj daemon: no run (paused or backing off; see aivj daemon status)")
        return 1
    came = report["came_in"]
    print(f"{report['run']}: {report['decision']}: {'; '.join(report['reasons'])}")
    print(
        f"  came in: {len(came['new_packs'])} pack(s), {came.get('pairs_added') or 0} pairs added; champion {report['champion_after']}"
    )
    return 1 if report["decision"] == "failed" else 0


def _status(args, cfg, home) -> int:
    from aivj.daemon.config import registry_dir
    from aivj.daemon.status import status

    s = status(home, registry_dir(cfg))
    if args.json:
        print(json.dumps(s, indent=2, default=str))
        return 0
    running = f"running (pid {s['running_pid']})" if s["running_pid"] else "not running"
    print(f"daemon: {running}; champion {s['champion']}; failures in a row {s['consecutive_failures']}")
    if s["current_run"]:
        print(f"current run: {s['current_run']} ({s['in_step'] or 'between steps'})")
    if s["paused"]:
        print(f"paused: {s['paused']}")
    for h in s["last_runs"]:
        print(f"  {h['run']}  {h['decision']:<11} +{h.get('pairs_added', 0)} pairs  {'; '.join(h.get('reasons', []))[:120]}")
    return 0


def _stop(args, home) -> int:
    from aivj.daemon.service import lock_holder

    pid = lock_holder(home)
    if not pid or pid < 0:
        print("aivj daemon: not running", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline and lock_holder(home):
        time.sleep(0.2)
    if lock_holder(home):
        print(f"aivj daemon: pid {pid} still holds the lock after {args.timeout:.0f} s", file=sys.stderr)
        return 1
    print(f"aivj daemon: stopped (pid {pid})")
    return 0


def main(argv: list[str] | None = None) -> int:
    import logging

    from aivj.daemon.config import DaemonConfigError, load_config
    from aivj.daemon.journal import daemon_home
    from aivj.daemon.service import AlreadyRunning

    args = build_parser().parse_args(argv)
    home = daemon_home()
    if args.command == "stop":
        return _stop(args, home)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        cfg = load_config(args.overrides)
        handler = {"start": _start, "run-once": _run_once, "status": _status}[args.command]
        return handler(args, cfg, home)
    except (DaemonConfigError, AlreadyRunning, ValueError) as exc:
        print(f"aivj daemon: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
