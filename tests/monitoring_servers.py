"""Real Prometheus, Alertmanager and an aivj app on loopback for the monitoring integration test: each
on a free port in a temp folder, started here and stopped after (only what was started here)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.servers import _stop_session, free_port

ALERTMANAGER_BINARIES = ("prometheus-alertmanager", "alertmanager")  # Debian's name, upstream's


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"{names[0]} missing; make test installs Debian's prometheus and prometheus-alertmanager")


def wait_http(url: str, proc: subprocess.Popen | None = None, log: Path | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited {proc.returncode}: {log.read_text()[-2000:] if log else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {timeout} s")


@contextmanager
def _server(cmd_of, name: str, files: dict[str, str]):
    """Write ``files`` into a temp folder, run ``cmd_of(folder, port)``, yield the base URL once ready."""
    temp = Path(tempfile.mkdtemp(prefix=name))
    for rel, text in files.items():
        (temp / rel).write_text(text)
    port = free_port()
    log = open(temp / "server.log", "wb")
    proc = subprocess.Popen(cmd_of(temp, port), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=temp)
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready", proc, temp / "server.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop_session(proc)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def prometheus_server(config: str, rules: str):
    """``config`` names ``rules.yml`` (written beside it) as its rule file."""
    binary = _binary("prometheus")
    return _server(
        lambda d, port: [
            binary,
            f"--config.file={d / 'prometheus.yml'}",
            f"--storage.tsdb.path={d / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        "prometheus",
        {"prometheus.yml": config, "rules.yml": rules},
    )


def alertmanager_server(config: str):
    binary = _binary(*ALERTMANAGER_BINARIES)
    return _server(
        lambda d, port: [
            binary,
            f"--config.file={d / 'alertmanager.yml'}",
            f"--storage.path={d / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port: one instance
        ],
        "alertmanager",
        {"alertmanager.yml": config},
    )


@contextmanager
def uvicorn_app(app):
    """An ASGI app (with its lifespan) on a free loopback port in a thread; yields (base URL, port)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        wait_http(f"http://127.0.0.1:{port}/health")
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
