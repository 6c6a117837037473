"""`aivj ingest` over the bad-input catalogue: exit code, one line, nothing half-written or lost."""

from __future__ import annotations

import json

import bad_inputs as bad
import pytest

INGEST = ["ingest", "--no-progress", "--workers", "1"]


def _quarantine(out):
    return [json.loads(line) for line in (out / "_quarantine.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("kind", ["missing", "empty folder", "garbage manifest"])
def test_nothing_to_read_writes_no_dataset(kind, tmp_path, capsys):
    if kind == "missing":
        src, code, named = bad.missing(tmp_path), 2, "does not exist"
    elif kind == "empty folder":
        src, code, named = bad.empty_dir(tmp_path), 1, "no manifest"
    else:
        src = bad.pack(tmp_path, [bad.pair(0)])
        (src / "manifest.jsonl").write_bytes(bad.garbage(tmp_path).read_bytes())
        code, named = 1, "nothing could be converted"
    out = tmp_path / "out"
    rc, _, err = bad.run_cli([*INGEST, str(src), "--output", str(out)], capsys)
    assert rc == code
    bad.one_line_error(err, named)
    assert not (out / "presets.parquet").exists() and not (out / "pairs").exists()
    if kind != "garbage manifest":
        assert not out.exists()  # failed before anything was created


@pytest.mark.parametrize(
    "line, reason",
    [
        (bad.pair(0), "duplicate pair"),  # pair 0 again: the first one wins
        ({**bad.pair(1), "pair": True}, "invalid manifest line"),  # not the line index
        ({**bad.pair(2), "pair": 10**30}, "invalid manifest line"),  # huge: no int64 overflow traceback
        (bad.pair(7, fg=0, bg=0) | {"bg": "fg/p0.milk"}, "same preset file on both layers"),
        ('{"pair": 8, "fg": "fg/p0.mi', "invalid manifest line"),  # truncated last line
    ],
)
def test_bad_rows_are_set_aside_and_counted(line, reason, tmp_path, capsys):
    src = bad.pack(tmp_path, [bad.pair(0), bad.pair(1, bg=2), line])
    out = tmp_path / "out"
    rc, stdout, err = bad.run_cli([*INGEST, str(src), "--output", str(out)], capsys)
    assert rc == 0, err
    assert "2 pairs written, 1 quarantined of 3 rows" in stdout
    (q,) = _quarantine(out)
    assert q["reason"] == reason
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["rows_in"] == summary["rows_written"] + summary["rows_quarantined"] == 3


def test_output_that_is_a_file_fails_before_parsing(tmp_path, capsys):
    src = bad.pack(tmp_path, [bad.pair(0)])
    target = tmp_path / "out.txt"
    target.write_text("keep me")
    rc, _, err = bad.run_cli([*INGEST, str(src), "--output", str(target)], capsys)
    assert rc == 2
    bad.one_line_error(err, str(target), "is a file")
    assert target.read_text() == "keep me"


def test_output_that_cannot_be_created(tmp_path, capsys):
    src = bad.pack(tmp_path, [bad.pair(0)])
    rc, _, err = bad.run_cli([*INGEST, str(src), "--output", str(bad.UNREADABLE_DIR / "out")], capsys)
    assert rc == 2
    bad.one_line_error(err, str(bad.UNREADABLE_DIR), "cannot write")


def test_strict_failure_leaves_an_existing_dataset_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    good = bad.pack(tmp_path, [bad.pair(0), bad.pair(1)], name="good")
    assert bad.run_cli([*INGEST, str(good), "--output", str(out)], capsys)[0] == 0
    before = bad.tree_snapshot(out)
    worse = bad.pack(tmp_path, [bad.pair(0), bad.pair(0)], name="worse")
    rc, _, err = bad.run_cli([*INGEST, str(worse), "--output", str(out), "--strict"], capsys)
    assert rc == 1
    bad.one_line_error(err, "--strict", "out.failed")
    assert bad.tree_snapshot(out) == before  # not two runs mixed in one folder
    failed = json.loads((tmp_path / "out.failed" / "_summary.json").read_text())
    assert failed["status"].startswith("failed") and failed["rows_quarantined"] == 1


def test_relative_paths_and_unicode_names(tmp_path, capsys, monkeypatch):
    src = tmp_path / bad.UNICODE_NAME
    bad.milk(src / "fg", f"{bad.UNICODE_NAME}.milk")
    bad.milk(src / "bg", "ß.milk", bad.GOOD_MILK.replace("rot=0.02", "rot=0.5"))
    (src / "manifest.jsonl").write_text(
        json.dumps({"pair": 0, "fg": f"fg/{bad.UNICODE_NAME}.milk", "bg": "bg/ß.milk", "score": 4.0}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    rc, stdout, err = bad.run_cli([*INGEST, bad.UNICODE_NAME, "--output", "out"], capsys)
    assert rc == 0, err
    assert "1 pairs written, 0 quarantined of 1 rows" in stdout


@pytest.mark.parametrize("flag", ["--sample", "--workers"])
def test_counts_below_one_are_refused(flag, tmp_path, capsys):
    src = bad.pack(tmp_path, [bad.pair(0)])
    rc, _, err = bad.run_cli(["ingest", str(src), "--output", str(tmp_path / "o"), flag, "0"], capsys)
    assert rc == 2
    bad.one_line_error(err, flag)
    assert not (tmp_path / "o").exists()


def test_a_truncated_old_dataset_in_the_output_is_named(tmp_path, capsys):
    out = tmp_path / "out"
    src = bad.pack(tmp_path, [bad.pair(0), bad.pair(1)])
    assert bad.run_cli([*INGEST, str(src), "--output", str(out)], capsys)[0] == 0
    presets = out / "presets.parquet"
    presets.write_bytes(presets.read_bytes()[:100])
    before = bad.tree_snapshot(out)
    rc, _, err = bad.run_cli([*INGEST, str(src), "--output", str(out)], capsys)
    assert rc == 2
    bad.one_line_error(err, str(presets), "not a readable Parquet file")
    assert bad.tree_snapshot(out) == before
