"""The event format, the log writer and the weight formula, without Redis (docs/streaming.md)."""

from __future__ import annotations

import json
import math

import pytest

from aivj.contract import score_events as ev
from aivj.contract.score_event_log import EventLogWriter, write_score_events
from aivj.stream.weights import APPLIED, STALE, WeightParams, next_state

GOOD = {"id": "e1", "time": 1767225600.5, "pack": "P", "pair": 3, "score": 4.25, "rank": 2, "source": "refine score"}


def test_a_valid_line_parses_and_its_canonical_line_parses_back_the_same():
    e = ev.parse(json.dumps({**GOOD, "fg": "a" * 20}).encode())
    assert (e.id, e.pack, e.pair, e.score, e.rank, e.fg, e.bg) == ("e1", "P", 3, 4.25, 2, "a" * 20, None)
    assert ev.parse(e.line()) == e and "bg" not in json.loads(e.line())


@pytest.mark.parametrize(
    "line, reason",
    [
        (b"not json at all", "not json"),
        (b"\xff\xfe{}", "not utf-8"),
        (b"[1, 2]", "not an object"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "rank"}).encode(), "missing field"),
        (json.dumps({**GOOD, "colour": "red"}).encode(), "unknown field"),
        (json.dumps({**GOOD, "score": 5.5}).encode(), "bad field"),
        (json.dumps({**GOOD, "score": "4"}).encode(), "bad field"),
        (json.dumps({**GOOD, "rank": 0}).encode(), "bad field"),
        (json.dumps({**GOOD, "pair": True}).encode(), "bad field"),
        (json.dumps({**GOOD, "pair": 1.5}).encode(), "bad field"),
        (json.dumps({**GOOD, "id": ""}).encode(), "bad field"),
        (json.dumps({**GOOD, "time": -3}).encode(), "bad field"),
        (json.dumps({**GOOD, "time": float("nan")}).encode(), "bad field"),
        (b"x" * (ev.MAX_LINE_BYTES + 1), "line too long"),
    ],
)
def test_a_bad_line_names_its_reason(line, reason):
    with pytest.raises(ev.BadEvent) as exc:
        ev.parse(line)
    assert exc.value.reason == reason


def test_the_writer_appends_whole_lines_to_the_days_log(tmp_path):
    w = EventLogWriter(tmp_path, "test", clock=lambda: 1767225600.0)  # 2026-01-01 UTC
    assert w.write([w.event("P", i, 2.0, i + 1) for i in range(3)]) == 3
    assert w.write([]) == 0
    assert w.write([w.event("P", 9, 1.0, 4, fg="f", bg="b")]) == 1
    assert w.path().name == "refinery_v2_20260101.log"
    lines = w.path().read_bytes().split(b"\n")
    assert lines[-1] == b"" and [ev.parse(x).pair for x in lines[:-1]] == [0, 1, 2, 9]
    assert len({ev.parse(x).id for x in lines[:-1]}) == 4


def test_score_events_are_one_per_scored_pair(tmp_path):
    path = write_score_events(tmp_path, "refine score:P", "P", [5, 6], [4.5, 1.0], [1, 2], fg=["a", "b"], bg=["c", "d"])
    got = [ev.parse(x) for x in path.read_bytes().splitlines()]
    assert [(e.pair, e.score, e.rank, e.fg, e.bg, e.source) for e in got] == [
        (5, 4.5, 1, "a", "c", "refine score:P"),
        (6, 1.0, 2, "b", "d", "refine score:P"),
    ]


P = WeightParams(half_life_s=100.0, score_gain=0.2, rank_gain=0.1, min=0.05, max=5.0)


def test_a_first_event_weighs_its_quality():
    outcome, s = next_state(None, 4.0, 7, 10.0, P)
    assert outcome == APPLIED and s["weight"] == pytest.approx(0.8) and s["m"] == 0.0


def test_gains_push_the_weight_and_the_momentum_halves_each_half_life():
    _, s0 = next_state(None, 2.0, 8, 0.0, P)
    _, s1 = next_state(s0, 3.0, 8, 0.0, P)  # one score point up, same time
    assert s1["m"] == pytest.approx(0.2) and s1["weight"] == pytest.approx(0.6 + 0.2)
    _, s2 = next_state(s1, 3.0, 8, 100.0, P)  # nothing new, one half-life later
    assert s2["m"] == pytest.approx(0.1)
    _, up_low = next_state({**s0, "rank": 4}, 2.0, 2, 0.0, P)
    _, up_high = next_state({**s0, "rank": 2}, 2.0, 1, 0.0, P)
    assert up_low["m"] == pytest.approx(up_high["m"]) == pytest.approx(0.1)  # a halving of the rank counts the same


def test_an_older_event_is_stale_and_weights_stay_in_bounds():
    _, s = next_state(None, 3.0, 1, 50.0, P)
    assert next_state(s, 5.0, 1, 49.0, P) == (STALE, None)
    _, low = next_state(s, 0.0, 1000, 50.0, P)
    _, high = next_state({**s, "m": 40.0}, 5.0, 1, 50.0, P)
    assert low["weight"] == P.min and high["weight"] == P.max and math.isfinite(high["m"])
