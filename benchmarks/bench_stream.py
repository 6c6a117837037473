"""Streaming reweighter benchmark: from a line appended to refinery_v2_*.log until the pack's sorted set has it.

    .venv/bin/python benchmarks/bench_stream.py [--rates 100 1000 5000] [--seconds 10] [--burst 50000]

Starts a real redis-server (tests/servers.py: loopback, AOF fsync every second), ``aivj stream tail`` and
``aivj stream work`` as the processes a user runs, then appends events at each rate for ``--seconds`` (one
pair each, so each pair's hash holds one event's times). Latency per event = ``applied_at`` (Redis time,
written by the apply script) - ``time`` (stamped by the writer as it appends): the same clock. Then a burst
of ``--burst`` events written at once: the sustained rate is events / (last applied - first written).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import redis

from aivj.stream.keys import Keys
from aivj.contract.score_event_log import EventLogWriter
from tests.servers import redis_server

TICK_S = 0.002


def wait_applied(r, keys: Keys, pack: str, n: int, limit_s: float = 300.0) -> None:
    deadline = time.monotonic() + limit_s
    while r.zcard(keys.topk(pack)) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pack}: {r.zcard(keys.topk(pack))} of {n} applied after {limit_s} s")
        time.sleep(0.05)


def latencies(r, keys: Keys, pack: str, n: int) -> np.ndarray:
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.hmget(keys.pair(pack, i), "time", "applied_at")
    return np.array([float(a) - float(t) for t, a in pipe.execute()])


def paced(writer: EventLogWriter, pack: str, rate: int, seconds: float) -> int:
    """Append ``rate`` events a second for ``seconds``, in small ticks so lines are not bunched up."""
    n_total, start, sent = int(rate * seconds), time.monotonic(), 0
    while sent < n_total:
        due = min(n_total, int((time.monotonic() - start) * rate) + 1)
        if due > sent:
            writer.write([writer.event(pack, i, 3.0, i + 1) for i in range(sent, due)])
            sent = due
        time.sleep(TICK_S)
    return n_total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", type=int, nargs="+", default=[100, 1000, 5000])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--burst", type=int, default=50_000)
    args = ap.parse_args()
    aivj = str(Path(sys.executable).with_name("aivj"))
    with redis_server() as server, tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, AIVJ_HOME=f"{tmp}/home")
        common = ["--set", f"redis_url={server.url}", "--set", f"log_dir={tmp}/logs"]
        procs = [
            subprocess.Popen([aivj, "stream", cmd, *common], env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            for cmd in ("tail", "work")
        ]
        r, keys = redis.Redis.from_url(server.url), Keys()
        writer = EventLogWriter(f"{tmp}/logs", "bench")
        try:
            writer.write([writer.event("warmup", 0, 3.0, 1)])  # both processes up and through their first batch
            wait_applied(r, keys, "warmup", 1)
            print(f"load average before: {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}")
            print(f"{'rate/s':>8} {'events':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            for rate in args.rates:
                pack = f"rate{rate}"
                n = paced(writer, pack, rate, args.seconds)
                wait_applied(r, keys, pack, n)
                lat = latencies(r, keys, pack, n) * 1000
                print(f"{rate:>8} {n:>7} {np.percentile(lat, 50):8.1f} {np.percentile(lat, 99):8.1f} {lat.max():8.1f}")
            pack, t0 = "burst", time.time()
            for i in range(0, args.burst, 5000):
                writer.write([writer.event(pack, j, 3.0, j + 1) for j in range(i, min(i + 5000, args.burst))])
            written_s = time.time() - t0
            wait_applied(r, keys, pack, args.burst)
            pipe = r.pipeline(transaction=False)
            for i in range(args.burst):
                pipe.hget(keys.pair(pack, i), "applied_at")
            last = max(float(a) for a in pipe.execute())
            print(
                f"burst of {args.burst}: written in {written_s:.2f} s, all applied {last - t0:.2f} s after the first line: "
                f"sustained {args.burst / (last - t0):,.0f} events/s"
            )
            print(f"load average after: {os.getloadavg()[0]:.2f}")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)


if __name__ == "__main__":
    main()
