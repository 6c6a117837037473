"""A real Redis per test module and a rig of log folder, tailer and workers for the stream tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from aivj.contract.score_event_log import EventLogWriter
from aivj.stream.keys import Keys
from aivj.stream.metrics import StreamMetrics
from aivj.stream.tailer import Tailer
from aivj.stream.weights import WeightParams
from aivj.stream.worker import Worker
from tests.servers import redis_server

PATTERN = "refinery_v2_*.log"


@dataclass
class Rig:
    server: object
    r: redis.Redis
    keys: Keys
    logs: Path
    state: Path
    metrics: StreamMetrics

    def writer(self, source: str = "test") -> EventLogWriter:
        return EventLogWriter(self.logs, source)

    def write(self, pairs, pack: str = "p", score=lambda i: (i % 6) * 0.8, rank=lambda i: i + 1, path: Path | None = None):
        """One event per pair id, to the day's log or to ``path``; returns the events."""
        w = self.writer()
        events = [w.event(pack, i, score(i), rank(i)) for i in pairs]
        if path is None:
            w.write(events)
        else:
            with open(path, "a") as fh:
                fh.write("".join(e.line() + "\n" for e in events))
        return events

    def tailer(self, **kw) -> Tailer:
        return Tailer(self.r, self.keys, self.logs, PATTERN, self.state, maxlen=100_000, metrics=self.metrics, **kw)

    def worker(self, consumer: str = "w1", r: redis.Redis | None = None, **kw) -> Worker:
        kw.setdefault("block_ms", 10)
        return Worker(r or self.r, self.keys, WeightParams(), "g", consumer, metrics=self.metrics, **kw)

    def applied(self, pack: str = "p") -> dict[int, dict]:
        """Pair id -> its hash, for every pair of ``pack`` in the sorted set."""
        out = {}
        for member in self.r.zrange(self.keys.topk(pack), 0, -1):
            h = self.r.hgetall(self.keys.pair(pack, member.decode()))
            out[int(member)] = {k.decode(): v.decode() for k, v in h.items()}
        return out


@pytest.fixture(scope="module")
def redis_srv():
    with redis_server() as server:
        yield server


@pytest.fixture
def rig(redis_srv, tmp_path):
    r = redis.Redis.from_url(redis_srv.url)
    r.flushall()
    (tmp_path / "logs").mkdir()
    yield Rig(redis_srv, r, Keys("aivj:"), tmp_path / "logs", tmp_path / "state", StreamMetrics.create())
    r.close()


def event_of(fields: dict):
    """The event a stream entry carries."""
    from aivj.contract.score_events import parse

    return parse(fields[b"event"])
