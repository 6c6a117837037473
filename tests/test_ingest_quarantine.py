"""Each quarantine reason, --strict, and the exit codes; rows_in == written + quarantined always."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_milk import coupled_pack, elite_pack, eval_labels, runtime_pack  # noqa: E402

from aivj.ingest.cli import main  # noqa: E402


def _run(tmp_path, *inputs, extra=()):
    out = tmp_path / "out"
    rc = main([str(i) for i in inputs] + ["--output", str(out), "--no-progress", *extra])
    summary = json.loads((out / "_summary.json").read_text()) if (out / "_summary.json").exists() else None
    quarantine = (
        [json.loads(line) for line in (out / "_quarantine.jsonl").read_text().splitlines()]
        if (out / "_quarantine.jsonl").exists()
        else []
    )
    return rc, summary, quarantine


def _broken_pack(tmp_path) -> Path:
    pack = coupled_pack(tmp_path / "aidata", "pack", 8, "wsl")
    eval_labels(pack, [0, 1, 2, 3, 4, 5, 6])  # pair 7 has no label
    (pack / "fg" / "coupled_00001_20260129_015409_fg.milk").unlink()  # missing preset file
    (pack / "bg" / "coupled_00002_20260129_015409_bg.milk").write_bytes(b"not a preset at all\n")  # invalid preset
    with open(pack / "manifest.jsonl", "a") as fh:
        fh.write(
            json.dumps(
                {"pair": 3, "fg": "fg/coupled_00004_20260129_015409_fg.milk", "bg": "bg/coupled_00004_20260129_015409_bg.milk"}
            )
            + "\n"
        )  # duplicate
        fh.write(
            json.dumps(
                {
                    "pair": 20,
                    "fg": "fg/coupled_00004_20260129_015409_fg.milk",
                    "bg": "bg/coupled_00004_20260129_015409_bg.milk",
                    "score": "nan",
                }
            )
            + "\n"
        )
        fh.write(
            json.dumps(
                {
                    "pair": 21,
                    "fg": "fg/coupled_00004_20260129_015409_fg.milk",
                    "bg": "bg/coupled_00004_20260129_015409_bg.milk",
                    "score": 7.5,
                }
            )
            + "\n"
        )
        fh.write("{broken json\n")
    return pack


def test_every_reason_is_quarantined_and_the_run_goes_on(tmp_path):
    pack = _broken_pack(tmp_path)
    rc, summary, quarantine = _run(tmp_path, pack)
    assert rc == 0
    reasons = {(q["pair"], q["reason"]) for q in quarantine}
    assert reasons == {
        (1, "missing preset file"), (2, "invalid preset"), (3, "duplicate pair"), (7, "no label"),
        (20, "non-finite score"), (21, "score out of range"), (11, "invalid manifest line"),
    }  # fmt: skip
    assert all(q["source"].endswith("manifest.jsonl") for q in quarantine)
    assert summary["rows_in"] == 12 and summary["rows_written"] == 5 and summary["rows_quarantined"] == 7
    assert summary["rows_in"] == summary["rows_written"] + summary["rows_quarantined"]
    assert summary["quarantine_reasons"]["duplicate pair"] == 1


def test_strict_makes_quarantine_an_error(tmp_path, capsys):
    pack = _broken_pack(tmp_path)
    rc, _, quarantine = _run(tmp_path, pack, extra=["--strict"])
    assert rc == 1 and len(quarantine) == 7 and not (tmp_path / "out" / "pairs").exists()
    assert "--strict" in capsys.readouterr().err


def test_strict_passes_on_clean_input(tmp_path):
    elite_pack(tmp_path / "aidata", 4)
    rc, summary, quarantine = _run(tmp_path, tmp_path / "aidata", extra=["--strict"])
    assert rc == 0 and summary["rows_written"] == 4 and quarantine == []


def test_nothing_converted_exits_non_zero(tmp_path, capsys):
    runtime_pack(tmp_path / "aidata", "rt", 3)  # a runtime pack without labels: all "no label"
    rc, summary, quarantine = _run(tmp_path, tmp_path / "aidata")
    assert rc == 1 and {q["reason"] for q in quarantine} == {"no label"} and summary["rows_in"] == 3
    assert "nothing could be converted" in capsys.readouterr().err


def test_no_manifest_and_missing_input(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--output", str(tmp_path / "o")]) == 1
    assert main([str(tmp_path / "nope"), "--output", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_unreadable_manifest_is_quarantined(tmp_path):
    elite_pack(tmp_path / "aidata", 3)
    bad = tmp_path / "aidata" / "rt"
    bad.mkdir()
    (bad / "pairs-manifest.v0.json").write_text("{not json")
    rc, summary, quarantine = _run(tmp_path, tmp_path / "aidata")
    assert rc == 0 and [q["reason"] for q in quarantine] == ["unreadable manifest"]
    assert summary["rows_in"] == summary["rows_written"] + summary["rows_quarantined"] == 4


def test_aivj_ingest_subcommand_runs_the_same_code(tmp_path, capsys):
    from aivj.cli import main as aivj_main

    elite_pack(tmp_path / "aidata", 3)
    assert aivj_main(["ingest", str(tmp_path / "aidata"), "--output", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "3 pairs written" in capsys.readouterr().out
