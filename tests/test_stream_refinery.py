"""``aivj refine score --events DIR``: the refinery's scorer writes one event per scored pair for the stream."""

from __future__ import annotations

import json
import shutil

import bad_inputs as bad
import pytest

from aivj.contract.layout import pairs_dataset
from aivj.contract.score_events import parse

PRESETS = ("Aderrasi - Agitator.milk", "Aderrasi - Airs.milk", "Aderrasi - Airhandler (Menagerie Mix).milk")


@pytest.mark.slow
def test_refine_score_appends_one_event_per_scored_pair(tmp_path, capsys):
    pack = tmp_path / "pack"
    for side in ("fg", "bg"):
        (pack / side).mkdir(parents=True)
    for name in PRESETS:
        shutil.copy(bad.DEBIAN / name, pack / "fg" / name)
        shutil.copy(bad.DEBIAN / name, pack / "bg" / name)
    rows = [{"pair": i, "fg": f"fg/{PRESETS[i]}", "bg": f"bg/{PRESETS[(i + 1) % 3]}", "score": 3.0} for i in range(3)]
    (pack / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out, logs = tmp_path / "out", tmp_path / "logs"
    argv = [
        "refine",
        "score",
        str(pack),
        "--out",
        str(out),
        "--workers",
        "1",
        "--cache",
        str(tmp_path / "cache"),
        "--events",
        str(logs),
    ]
    rc, stdout, err = bad.run_cli(argv, capsys)
    assert rc == 0, stdout + err
    (log,) = logs.glob("refinery_v2_*.log")
    assert f"appended 3 score events to {log}" in stdout
    events = [parse(line) for line in log.read_bytes().splitlines()]
    table = pairs_dataset(out).to_table(columns=["pack", "pair", "fg_id", "bg_id", "score", "rank"]).to_pylist()
    want = sorted((r["pack"], r["pair"], r["score"], r["rank"], r["fg_id"], r["bg_id"]) for r in table)
    got = sorted((e.pack, e.pair, e.score, e.rank, e.fg, e.bg) for e in events)
    assert [g[:2] + g[3:] for g in got] == [w[:2] + w[3:] for w in want]
    assert [g[2] for g in got] == pytest.approx([w[2] for w in want], abs=1e-4)  # float32 in the table
    assert {e.source for e in events} == {"refine score"} and len({e.id for e in events}) == 3
