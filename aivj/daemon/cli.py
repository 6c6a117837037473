"""``aivj daemon start|status|stop|run-once [--set KEY=VALUE...]``: the unattended self-training loop (docs/daemon.md).

``--set`` overrides conf/daemon/default.yaml (``--set roots=[/mnt/d/aidata] --set schedule.interval_seconds=1800``).
Exit codes: 0 done, 1 a run failed (run-once) or the daemon is not running (stop), 2 bad arguments or config
(or a detached start whose daemon exited at once).
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

from aivj.configs import config_options

DETACH_WAIT_S = 60.0  # how long a detached start waits to see its daemon take the lock


def build_parser() -> argparse.ArgumentParser:
    from aivj.services.cli import add_service_args

    p = argparse.ArgumentParser(prog="aivj daemon", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    options = config_options("daemon")
    start = sub.add_parser("start", parents=[options], help="run the schedule (foreground; --detach: in the background)")
    start.add_argument("--detach", action="store_true", help="start in the background, log to $AIVJ_HOME/daemon/daemon.log")
    once = sub.add_parser("run-once", parents=[options], help="one run now (resumes an interrupted one first)")
    once.add_argument("--full", action="store_true", help="full retrain from scratch")
    add_service_args(start, "daemon", address=False)  # the status page's address is conf/daemon status.host/port
    st = sub.add_parser("status", parents=[options], help="state, champion, last runs")
    st.add_argument("--json", action="store_true")
    stop = sub.add_parser("stop", help="SIGTERM the running daemon and wait for it")
    stop.add_argument("--timeout", type=float, default=60.0)
    return p


def _ready(proc, home, cfg) -> bool:
    """The child holds the lock and, with a status page, answers on it (a taken port stops it after the lock)."""
    from aivj.daemon.service import lock_holder

    if lock_holder(home) != proc.pid:
        return False
    if not cfg.status.port:
        return True
    import httpx

    try:
        return httpx.get(f"http://{cfg.status.host}:{cfg.status.port}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _detach(args, cfg, home) -> int:
    """Start the daemon in the background; "started" only once it is up, else why it stopped."""
    from aivj.daemon.service import AlreadyRunning, lock_holder

    holder = lock_holder(home)
    if holder:
        raise AlreadyRunning(f"already running (pid {holder}); aivj daemon stop first")
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "daemon.log"
    cmd = [sys.executable, "-m", "aivj.daemon.cli", "start", *(f"--set={o}" for o in args.set)]
    with open(log_path, "a") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + DETACH_WAIT_S
    while proc.poll() is None and not _ready(proc, home, cfg) and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.poll() is not None:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
        print(f"aivj daemon: exited at once (code {proc.returncode}): {lines[-1] if lines else 'no output'} ({log_path})",
              file=sys.stderr)  # fmt: skip
        return 2
    held = "" if _ready(proc, home, cfg) else f"; not up after {DETACH_WAIT_S:.0f} s yet"
    print(f"aivj daemon: started (pid {proc.pid}){held}, log {log_path}")
    return 0


def _start(args, cfg, home) -> int:
    from aivj.daemon.service import Daemon, daemon_lock

    if args.detach:
        return _detach(args, cfg, home)
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
    from aivj.daemon.config import registry_dir
    from aivj.daemon.metrics import DaemonMetrics
    from aivj.daemon.status import create_status_app
    from aivj.services.serve import serve

    app = create_status_app(home, registry_dir(cfg))
    server = serve(app, str(cfg.status.host), int(cfg.status.port), background=True)
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
    from aivj.daemon.config import DaemonConfigError, load_config
    from aivj.daemon.journal import daemon_home
    from aivj.daemon.service import AlreadyRunning
    from aivj.services.logs import setup_logging
    from aivj.services.serve import ServeError

    args = build_parser().parse_args(argv)
    home = daemon_home()
    if args.command == "stop":
        return _stop(args, home)
    if args.command == "start" and args.issue_key:
        from aivj.services.cli import issue_key
        from aivj.services.settings import ServiceSettings

        issue_key(args, ServiceSettings(name="daemon"))  # the status page's and the rollback webhook's app
        return 0
    setup_logging()  # httpx at WARNING: the Telegram URL holds the bot token
    try:
        cfg = load_config(args.set)
        handler = {"start": _start, "run-once": _run_once, "status": _status}[args.command]
        return handler(args, cfg, home)
    except (DaemonConfigError, AlreadyRunning, ValueError, ServeError) as exc:
        print(f"aivj daemon: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
