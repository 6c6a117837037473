"""The stream on a real Redis: tail -> work -> top-k, idempotence, the Lua formula, readers, the CLI."""

from __future__ import annotations

import json
import random
import socket
import threading

import numpy as np
import pytest

from aivj.stream import reader
from aivj.stream.weights import WeightParams, next_state
from tests.helpers import stream as helpers

redis_srv, rig = helpers.redis_srv, helpers.rig  # the fixtures


def test_tail_then_work_applies_every_event_and_the_counts_reconcile(rig):
    events = rig.write(range(60))
    with open(rig.writer().path(), "a") as fh:
        fh.write('not json\n{"id": "x"}\n')
    tailer = rig.tailer()
    assert tailer.poll_once() == 62
    assert tailer.counts == {"lines": 62, "published": 60, "quarantined": 2, "truncations": 0}
    quarantined = [json.loads(x) for x in tailer.quarantine_path.read_text().splitlines()]
    assert [q["reason"] for q in quarantined] == ["not json", "missing field"]
    worker = rig.worker(batch=25)
    assert worker.run(idle_exit=True) == 60
    assert worker.counts["applied"] == 60 and worker.pending() == 0
    applied = rig.applied()
    assert sorted(applied) == list(range(60))
    assert all(applied[e.pair]["event"] == e.id and applied[e.pair]["n"] == "1" for e in events)
    m = rig.metrics
    assert m.events.labels("applied")._value.get() == 60 and m.events.labels("quarantined")._value.get() == 2
    assert m.lag._sum.get() > 0


def test_top_k_is_the_highest_weights_first_with_their_details(rig):
    rig.write(range(20), score=lambda i: i / 4, rank=lambda i: 20 - i)
    rig.tailer().poll_once()
    rig.worker().run(idle_exit=True)
    top = reader.topk(rig.r, rig.keys, "p", 3)
    assert [x.pair for x in top] == [19, 18, 17]
    assert top[0].weight == pytest.approx(19 / 4 / 5) and top[0].details["rank"] == "1"
    assert reader.topk(rig.r, rig.keys, "no such pack", 3) == []


def test_an_event_applied_twice_has_no_extra_effect_and_an_older_one_is_stale(rig):
    w = rig.writer()
    first, later = w.event("p", 1, 2.0, 5), w.event("p", 1, 4.0, 2)
    older = type(first)(**{**first.__dict__, "id": "older", "time": first.time - 10})
    for e in (first, later, later, first, older):  # replays of both, then an event older than the state
        rig.r.xadd(rig.keys.stream, {"event": e.line()})
    worker = rig.worker()
    worker.run(idle_exit=True)
    assert worker.counts == {"applied": 2, "duplicate": 2, "stale": 1, "unreadable": 0}
    state = rig.applied()[1]
    assert state["n"] == "2" and state["event"] == later.id and float(state["score"]) == 4.0


def test_the_lua_script_computes_the_reference_formula(rig):
    rnd = random.Random(3)
    params = WeightParams()
    ref: dict[int, dict | None] = {i: None for i in range(5)}
    w, t = rig.writer(), 1_767_225_600.0
    lines = []
    for _ in range(200):
        pair, t = rnd.randrange(5), t + rnd.expovariate(1 / 600)
        e = type(w.event("p", 0, 0, 1))(f"e{len(lines)}", t, "p", pair, round(rnd.uniform(0, 5), 3), rnd.randint(1, 50), "t")
        lines.append(e.line())
        ref[pair] = next_state(ref[pair], e.score, e.rank, e.time, params)[1]
    for line in lines:
        rig.r.xadd(rig.keys.stream, {"event": line})
    rig.worker(batch=7).run(idle_exit=True)
    got = rig.applied()
    for pair, state in ref.items():
        assert float(got[pair]["weight"]) == pytest.approx(state["weight"], rel=1e-9, abs=1e-12)
        assert float(got[pair]["m"]) == pytest.approx(state["m"], rel=1e-9, abs=1e-12)


def test_live_weights_answer_known_pairs_and_the_mean_for_unknown_ones(rig, redis_srv):
    rig.write(range(4), score=lambda i: i + 1.0)
    rig.tailer().poll_once()
    rig.worker().run(idle_exit=True)
    live = reader.LiveWeights(redis_srv.url)
    got = live(np.array(["p", "p", "p", "other"], dtype=object), np.array([0, 3, 99, 0]))
    mean = np.mean([0.2, 0.4, 0.6, 0.8])
    assert got == pytest.approx([0.2, 0.8, mean, mean])


def _silent_server():
    """A socket that accepts connections and never answers (a hung Redis)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    held = []
    threading.Thread(target=lambda: held.append(s.accept()), daemon=True).start()
    return s


@pytest.mark.timeout(30)
def test_live_weights_are_none_when_redis_is_down_or_hung(rig):
    from tests.servers import free_port

    packs, pairs = np.array(["p"], dtype=object), np.array([0])
    assert reader.LiveWeights(f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.05)(packs, pairs) is None
    hung = _silent_server()
    try:
        assert reader.LiveWeights(f"redis://127.0.0.1:{hung.getsockname()[1]}/0", socket_timeout_s=0.05)(packs, pairs) is None
    finally:
        hung.close()
    assert reader.LiveWeights(rig.server.url)(packs, pairs) is None  # up, but no weights yet


def test_the_cli_emits_tails_works_and_reads_the_top_k(rig, redis_srv, tmp_path, monkeypatch, capsys):
    from aivj.stream.cli import main

    monkeypatch.setenv("AIVJ_HOME", str(tmp_path / "home"))
    common = ["--set", f"redis_url={redis_srv.url}", "--set", f"log_dir={rig.logs}"]  # --set goes after the subcommand
    assert main(["emit", *common, "cli pack", "7", "4.5", "1"]) == 0
    assert main(["emit", *common, "cli pack", "8", "2.0", "2"]) == 0
    assert main(["emit", *common, "cli pack", "9", "6.0", "3"]) == 2  # score outside 0-5: refused, nothing written
    assert main(["tail", *common, "--once"]) == 0
    assert "2 lines read: 2 published, 0 quarantined" in capsys.readouterr().out
    assert (tmp_path / "home" / "stream" / "tailer.json").exists()
    assert main(["work", *common, "--once"]) == 0
    assert "applied 2" in capsys.readouterr().out
    assert main(["topk", *common, "cli pack", "-k", "1", "--json"]) == 0
    (top,) = json.loads(capsys.readouterr().out)
    assert top["pair"] == 7 and top["weight"] == pytest.approx(0.9)
    assert main(["status", *common]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["length"] == 2 and status["groups"][0]["pending"] == 0 and status["tailer"]["published"] == 2


@pytest.mark.parametrize(
    "args", [["topk", "p", "-k", "0"], ["status", "--set", "nope=1"], ["topk", "p", "--set", "redis_url=redis://127.0.0.1:1/0"]]
)
def test_cli_errors_are_one_line_and_exit_2(args, capsys, tmp_path, monkeypatch):
    from aivj.stream.cli import main

    monkeypatch.setenv("AIVJ_HOME", str(tmp_path))
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aivj stream") and "\n" not in err


def test_the_http_face_serves_top_k_behind_the_key_and_the_agreed_metric_names(rig):
    from fastapi.testclient import TestClient

    from aivj.services.settings import ServiceSettings
    from aivj.stream.app import stream_app

    rig.write(range(3))
    rig.tailer().poll_once()
    app, metrics = stream_app(rig.r, rig.keys, ServiceSettings(name="stream", require_api_key=False, data_dir=rig.state))
    worker = rig.worker()
    worker.metrics = metrics
    worker.run(idle_exit=True)
    client = TestClient(app)
    body = client.get("/topk/p", params={"k": 2}).json()
    assert [p["pair"] for p in body["pairs"]] == [2, 1]
    text = client.get("/metrics").text
    for name in (
        'aivj_stream_events_total{outcome="applied"} 3.0',
        "aivj_stream_lag_seconds_bucket",
        "aivj_stream_pending_events",
        "aivj_stream_last_applied_timestamp_seconds",
    ):
        assert name in text
