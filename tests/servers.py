"""Real servers on loopback for the scale-out tests: a Ray head and a PostgreSQL cluster, each in its own
temp folder, started by the test and stopped after (only the processes started here are stopped)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_pids(sid: int) -> list[int]:
    """Processes of session ``sid`` (Ray workers put themselves in process groups of their own, not the head's)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # after "pid (comm)": state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def _stop_session(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL, to every process of the session ``proc`` leads: only what this fixture started."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        for pid in _session_pids(proc.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _session_pids(proc.pid):
            proc.poll()
            time.sleep(0.2)
        if not _session_pids(proc.pid):
            break
    proc.poll()


@contextmanager
def ray_head(num_cpus: int = 2):
    """``ray start --head --block`` on 127.0.0.1 in a short temp dir (Ray's socket paths must stay under 107
    bytes); yields the GCS address. Stopping ``--block``'s session stops every process of this cluster."""
    ray_bin = Path(sys.executable).with_name("ray")
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    port = free_port()
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    cmd = [
        str(ray_bin),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        f"--temp-dir={temp}",
        f"--num-cpus={num_cpus}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--object-store-memory=100000000",
    ]
    log = open(temp / "head.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"ray start exited {proc.returncode}: {(temp / 'head.log').read_text()[-2000:]}")
            if (temp / "head.log").read_text(errors="replace").count("Ray runtime started"):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("ray head did not start within 120 s")
        yield address
    finally:
        _stop_session(proc)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def _as_user(user: str | None):
    if user is None:
        return None
    pw = pwd.getpwnam(user)

    def demote():
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    return demote


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if versions:
        return str(versions[0] / name)
    raise RuntimeError(f"{name}: PostgreSQL server binaries missing; install with: apt-get install -y postgresql")


@contextmanager
def postgres_server():
    """initdb + pg_ctl start in a temp dir on a free loopback port (as the ``postgres`` user when run as root,
    since the server refuses root); yields a SQLAlchemy URL for database ``optuna``, stops the server after."""
    user = None
    if os.geteuid() == 0:
        user = "postgres" if _user_exists("postgres") else "nobody"
    temp = Path(tempfile.mkdtemp(prefix="pg"))
    data, sock = temp / "data", temp / "sock"
    sock.mkdir()
    if user:
        pw = pwd.getpwnam(user)
        for p in (temp, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    port = free_port()
    run = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True, text=True, preexec_fn=_as_user(user))  # noqa: E731
    try:
        run(_pg_bin("initdb"), "-D", str(data), "-U", "optuna", "--auth=trust", "-E", "UTF8", "--no-sync")
        run(
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(temp / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {sock} -F",
        )
        run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "optuna", "optuna")
        yield f"postgresql+psycopg://optuna@127.0.0.1:{port}/optuna"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                preexec_fn=_as_user(user),
            )
        shutil.rmtree(temp, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class RedisServer:
    """``redis-server`` on a free loopback port in a temp dir, configured on the command line only (no config
    file, no RDB snapshots; the append-only file on, fsync every second, as docs/streaming.md advises).
    ``restart()`` stops it (SIGTERM: Redis writes the AOF out) and starts it again on the same port and data."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.binary).exists():
            raise RuntimeError("redis-server missing; install with: apt-get install -y redis-server")
        self.dir = Path(tempfile.mkdtemp(prefix="redis"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", ""]
        cmd += ["--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no", "--logfile", "redis.log"]
        ready_before = self._log().count("Ready to accept connections")  # the log grows across restarts
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited {self.proc.returncode}: {self._log()[-2000:]}")
            with socket.socket() as s:
                if (
                    s.connect_ex(("127.0.0.1", self.port)) == 0
                    and self._log().count("Ready to accept connections") > ready_before
                ):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start within 30 s")

    def _log(self) -> str:
        log = self.dir / "redis.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def redis_server():
    """A started ``RedisServer`` (``.url``, ``.restart()``), stopped and removed after."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()
