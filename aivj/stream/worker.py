"""A consumer-group worker: reads events from the stream, applies each weight change in Redis, acknowledges.

Each entry is applied by ``weights.APPLY_LUA`` (apply + mark the event id + XACK in one atomic step);
a batch of entries goes out as one pipeline. On start and after a lost connection the worker first
re-reads its own pending entries (XREADGROUP from 0), then new ones (``>``); every ``claim_every_s`` it
takes over entries another consumer has left pending longer than ``claim_idle_ms`` (XAUTOCLAIM): a worker
that died holding events does not lose them. A Flink job taking this worker's place keeps the event format
and the keys (keys.py), and applies the same formula (weights.py) with the same idempotence by event id.
"""

from __future__ import annotations

import json
import os
import socket
import time

import redis as redis_lib

from aivj.contract.score_events import SCORE_MAX, BadEvent, parse
from aivj.stream.keys import Keys
from aivj.stream.weights import APPLY_LUA, OUTCOME_OF_CODE, WeightParams


def default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(r, keys: Keys, group: str) -> None:
    try:
        r.xgroup_create(keys.stream, group, id="0", mkstream=True)
    except redis_lib.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class Worker:
    def __init__(
        self,
        r,
        keys: Keys,
        params: WeightParams,
        group: str,
        consumer: str,
        batch: int = 500,
        block_ms: int = 1000,
        claim_idle_ms: int = 30000,
        claim_every_s: float = 5.0,
        dedup_ttl_s: int = 604800,
        metrics=None,
        clock=time.time,
    ):
        self.r, self.keys, self.params, self.group, self.consumer = r, keys, params, group, consumer
        self.batch, self.block_ms, self.claim_idle_ms, self.claim_every_s = batch, block_ms, claim_idle_ms, claim_every_s
        self.dedup_ttl_s, self.metrics, self.clock = dedup_ttl_s, metrics, clock
        self.script = r.register_script(APPLY_LUA)
        self.counts = {"applied": 0, "duplicate": 0, "stale": 0, "unreadable": 0}
        self.own_pending_first = True  # re-read what this consumer was given before a restart or a lost connection
        self.last_claim = 0.0
        self.claim_cursor = "0-0"
        ensure_group(r, keys, group)

    def step(self, block_ms: int | None = None) -> int:
        """Apply one batch (own pending, claimed, or new entries); returns how many entries were handled."""
        if self.own_pending_first:
            entries = self._read("0", None)
            if entries:
                return self.apply(entries)
            self.own_pending_first = False
        if self.clock() - self.last_claim >= self.claim_every_s:
            self.last_claim = self.clock()
            claimed = self.claim()
            if claimed:
                return self.apply(claimed)
        entries = self._read(">", self.block_ms if block_ms is None else block_ms)
        return self.apply(entries) if entries else 0

    def claim(self) -> list:
        """Entries idle longer than ``claim_idle_ms`` on any consumer, now this one's (XAUTOCLAIM)."""
        cursor, entries, *_ = self.r.xautoclaim(
            self.keys.stream, self.group, self.consumer, self.claim_idle_ms, start_id=self.claim_cursor, count=self.batch
        )
        self.claim_cursor = cursor if isinstance(cursor, str) else cursor.decode()
        return [(eid, fields) for eid, fields in entries if fields]  # trimmed entries come back empty

    def _read(self, start: str, block_ms: int | None) -> list:
        reply = self.r.xreadgroup(self.group, self.consumer, {self.keys.stream: start}, count=self.batch, block=block_ms)
        return reply[0][1] if reply else []

    def apply(self, entries: list) -> int:
        p, k = self.params, self.keys
        events, args = [], []
        for entry_id, fields in entries:
            raw = fields.get(b"event", fields.get("event")) if fields else None
            try:
                events.append(parse(raw if raw is not None else b""))
            except BadEvent:  # a producer other than the tailer wrote it: acknowledge, count, go on
                self.r.xack(k.stream, self.group, entry_id)
                self.counts["unreadable"] += 1
                continue
            args += [entry_id, raw]
        if not events:
            return len(entries)
        head = [self.group, k.prefix, p.half_life_s, p.score_gain, p.rank_gain, p.min, p.max, self.dedup_ttl_s, SCORE_MAX]
        codes = self.script(keys=[k.stream], args=head + args)
        now = self.clock()
        for e, code in zip(events, codes):
            outcome = OUTCOME_OF_CODE[int(code)]
            self.counts[outcome] += 1
            if self.metrics:
                self.metrics.events.labels(outcome).inc()
                if outcome == "applied":
                    self.metrics.lag.observe(max(now - e.time, 0.0))
        if self.metrics:
            self.metrics.last_applied.set(now)
        return len(entries)

    def pending(self) -> int:
        return int(self.r.xpending(self.keys.stream, self.group)["pending"])

    def run(self, stop=lambda: False, max_entries: int | None = None, idle_exit: bool = False, on_error=None) -> int:
        """Loop until ``stop()``; Redis going away means back off and retry, never exit."""
        done, backoff = 0, 0.1
        while not stop() and (max_entries is None or done < max_entries):
            try:
                n = self.step()
                if self.metrics:
                    self.metrics.pending.set(self.pending())
                backoff = 0.1
            except (redis_lib.ConnectionError, redis_lib.TimeoutError, redis_lib.BusyLoadingError) as exc:
                if on_error:
                    on_error(exc)
                self.own_pending_first = True
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            done += n
            if n == 0 and idle_exit:
                break
        return done


def summary(w: Worker) -> str:
    return json.dumps(w.counts)
