"""Faults against a real Redis: a restart mid-stream, a worker killed holding events, logs rotated and
truncated under the tailer, the tailer itself restarted. Each checks no event is lost and none applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from tests.helpers import stream as helpers

redis_srv, rig = helpers.redis_srv, helpers.rig  # the fixtures


def _retrying(fn, attempts: int = 50):
    """What the CLI loops do when Redis is away: back off and call again."""
    for _ in range(attempts):
        try:
            return fn()
        except (redis.ConnectionError, redis.BusyLoadingError):
            time.sleep(0.1)
    raise AssertionError(f"{fn} never got through")


def _assert_each_applied_once(rig, events):
    applied = rig.applied()
    assert sorted(applied) == sorted(e.pair for e in events)
    assert all(applied[e.pair]["event"] == e.id and applied[e.pair]["n"] == "1" for e in events)


def test_redis_restarted_mid_stream_loses_nothing_and_applies_nothing_twice(rig):
    tailer, worker = rig.tailer(), rig.worker(batch=50)
    events = rig.write(range(200))
    tailer.poll_once()
    assert worker.step() == 50  # part applied, the rest waits in the stream
    apply = worker.apply

    def restart_then_apply(entries):  # Redis goes down between this worker's read and its apply
        rig.server.restart()
        return apply(entries)

    worker.apply = restart_then_apply
    assert worker.step() == 50
    worker.apply = apply
    events += rig.write(range(200, 300))
    _retrying(tailer.poll_once)
    rig.r.xreadgroup("g", "w1", {rig.keys.stream: ">"}, count=30)  # read by w1 just before its process died
    rig.server.stop()  # Redis down again while the tailer has lines to publish
    events += rig.write(range(300, 350))
    with pytest.raises(redis.ConnectionError):
        tailer.poll_once()
    rig.server.start()
    _retrying(tailer.poll_once)
    restarted = rig.worker("w1", batch=50)  # w1 again: it re-reads what it held first
    assert restarted.run(idle_exit=True, on_error=lambda exc: None) == 250
    assert worker.counts["applied"] + restarted.counts["applied"] == 350
    assert worker.counts["duplicate"] + restarted.counts["duplicate"] == 0 and restarted.pending() == 0
    assert rig.r.xlen(rig.keys.stream) == 350 and tailer.counts["published"] == 350
    _assert_each_applied_once(rig, events)


DEAD_WORKER = """
import sys, time, redis
r = redis.Redis.from_url(sys.argv[1])
got = r.xreadgroup("g", "dead", {sys.argv[2]: ">"}, count=40)
print(len(got[0][1]), flush=True)
time.sleep(120)
"""


def test_a_killed_workers_pending_events_are_claimed_and_applied_once(rig):
    events = rig.write(range(100))
    rig.tailer().poll_once()
    worker = rig.worker("alive", batch=25, claim_idle_ms=200, claim_every_s=0.0)
    dead = subprocess.Popen(
        [sys.executable, "-c", DEAD_WORKER, rig.server.url, rig.keys.stream],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert dead.stdout.readline().strip() == "40"
    finally:
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait()
    assert worker.run(idle_exit=True) == 60  # what the dead one did not take
    assert {c["name"]: c["pending"] for c in rig.r.xinfo_consumers(rig.keys.stream, "g")}[b"dead"] == 40
    deadline = time.monotonic() + 30
    while worker.pending() and time.monotonic() < deadline:  # claimable once idle for claim_idle_ms
        worker.step(block_ms=50)
    assert worker.pending() == 0 and worker.counts["applied"] == 100 and worker.counts["duplicate"] == 0
    _assert_each_applied_once(rig, events)


def test_a_log_rotated_or_truncated_while_tailing_is_read_once_in_order(rig):
    log = rig.logs / "refinery_v2_a.log"
    tailer = rig.tailer()
    events = rig.write(range(0, 100), path=log)
    assert tailer.poll_once() == 100
    events += rig.write(range(100, 150), path=log)  # written, not read yet, when the rotator moves the file
    log.rename(rig.logs / "refinery_v2_a.log.1")
    events += rig.write(range(150, 220), path=log)
    assert tailer.poll_once() == 120
    os.truncate(log, 0)  # copytruncate
    events += rig.write(range(220, 250), path=log)
    assert tailer.poll_once() == 30 and tailer.counts["truncations"] == 1
    published = [helpers.event_of(fields) for _, fields in rig.r.xrange(rig.keys.stream)]
    assert [e.id for e in published] == [e.id for e in events]
    rig.worker().run(idle_exit=True)
    _assert_each_applied_once(rig, events)


def test_a_restarted_tailer_neither_skips_nor_repeats_and_waits_for_whole_lines(rig):
    log = rig.logs / "refinery_v2_b.log"
    events = rig.write(range(40), path=log)
    first = rig.tailer()
    first.poll_once()
    first.close()
    events += rig.write(range(40, 60), path=log)
    tail = rig.write([60], path=rig.logs / "scratch")[0].line()
    with open(log, "a") as fh:
        fh.write(tail[:15])  # a line the refinery is still writing
    log.rename(rig.logs / "refinery_v2_b.log.1")  # rotated while no tailer ran
    events += rig.write(range(70, 80), path=log)
    second = rig.tailer()
    assert second.poll_once() == 30  # the rest of the rotated file (its half line aside), then the new one
    assert second.counts["published"] == 70 and second.counts["quarantined"] == 0
    published = [helpers.event_of(fields) for _, fields in rig.r.xrange(rig.keys.stream)]
    assert [e.id for e in published] == [e.id for e in events]


class _Killed(BaseException):
    pass


def test_a_tailer_killed_between_quarantine_and_save_leaves_counts_that_reconcile(rig):
    log = rig.writer().path()
    rig.write(range(10))
    with open(log, "a") as fh:
        fh.write('not json\n{"id": "x"}\n')
    first = rig.tailer()

    def killed():  # kill -9 after the quarantine append, before the offsets are saved
        raise _Killed

    first._save = killed
    with pytest.raises(_Killed):
        first.poll_once()
    first.close()
    assert len(first.quarantine_path.read_text().splitlines()) == 2  # written, but not yet counted
    second = rig.tailer()
    assert second.poll_once() == 12
    quarantined = first.quarantine_path.read_text().splitlines()
    assert second.counts["quarantined"] == len(quarantined) == 2
    assert second.counts["lines"] == second.counts["published"] + second.counts["quarantined"] == 12


def test_a_corrupt_tailer_state_is_one_line_naming_the_file(rig):
    from aivj.stream.tailer import TailerStateError

    rig.state.mkdir(parents=True)
    (rig.state / "tailer.json").write_text("{")
    with pytest.raises(TailerStateError) as err:
        rig.tailer()
    assert str(rig.state / "tailer.json") in str(err.value) and "\n" not in str(err.value)
