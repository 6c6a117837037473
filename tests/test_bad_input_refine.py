"""`aivj refine render|score` over the bad-input catalogue, each with its own temporary frame cache."""

from __future__ import annotations

import json
import shutil

import bad_inputs as bad
import pytest

from aivj.refinery.cache import FrameCache
from aivj.refinery.settings import RenderSettings

AGITATOR, AIRS, AIRHANDLER = "Aderrasi - Agitator.milk", "Aderrasi - Airs.milk", "Aderrasi - Airhandler (Menagerie Mix).milk"


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--size", "0"),
        ("--size", "-5"),
        ("--size", "100000"),
        ("--workers", "0"),
        ("--workers", "-3"),
        ("--audio", "jazz"),
        ("--audio", "nope.wav"),
        ("--timeout", "0"),
    ],
)
def test_bad_render_arguments_fail_before_any_cache_folder(flag, value, tmp_path, capsys):
    preset = bad.milk(tmp_path, "ok.milk")
    cache = tmp_path / "cache"
    rc, _, err = bad.run_cli(["refine", "render", str(preset), "--cache", str(cache), flag, value], capsys)
    assert rc == 2
    bad.one_line_error(err, flag if flag != "--audio" else value)
    assert not cache.exists()


@pytest.mark.parametrize("kind", ["missing", "empty folder", "not a .milk file"])
def test_nothing_to_render_is_exit_2(kind, tmp_path, capsys):
    target = {"missing": bad.missing, "empty folder": bad.empty_dir, "not a .milk file": bad.garbage}[kind](tmp_path)
    cache = tmp_path / "cache"
    rc, _, err = bad.run_cli(["refine", "render", str(target), "--cache", str(cache)], capsys)
    assert rc == 2
    bad.one_line_error(err, str(target))
    assert not cache.exists()


@pytest.mark.parametrize("make", [bad.garbage, bad.empty_file], ids=["garbage bytes", "empty"])
def test_unreadable_presets_are_load_errors_and_retried(make, tmp_path, capsys):
    preset = make(tmp_path, "broken.milk")
    cache_root = tmp_path / "cache"
    rc, out, _ = bad.run_cli(["refine", "render", str(preset), "--cache", str(cache_root)], capsys)
    assert rc == 2 and f"load_error: {preset}" in out
    (status,) = cache_root.glob("*/status.jsonl")
    (rec,) = [json.loads(line) for line in status.read_text().splitlines()]
    assert rec["status"] == "load_error" and rec["path"] == str(preset)
    rc, out, _ = bad.run_cli(["refine", "render", str(preset), "--cache", str(cache_root)], capsys)
    assert rc == 2 and f"load_error: {preset}" in out  # checked again (a load error is never a cached result)
    assert len(status.read_text().splitlines()) == 1  # the same failure again does not grow the log


def test_relative_path_renders_and_a_false_black_is_not_kept(tmp_path, capsys, monkeypatch):
    """Defect 1: workers run in the repository, so `rend3/x.milk` used to render black and stay cached."""
    rend = tmp_path / "rend3"
    rend.mkdir()
    shutil.copy(bad.DEBIAN / AGITATOR, rend / f"{bad.UNICODE_NAME}.milk")
    from aivj.refinery import library

    (job,) = library.jobs(library.scan([rend], "test"))
    settings = RenderSettings()
    cache = FrameCache(settings, tmp_path / "cache")
    cache.record({"id": job.id, "path": f"rend3/{bad.UNICODE_NAME}.milk", "status": "black", "reason": "old bug"})
    monkeypatch.chdir(tmp_path)
    rc, out, err = bad.run_cli(["refine", "render", "rend3", "--workers", "1", "--cache", str(tmp_path / "cache")], capsys)
    assert rc == 0, out + err
    rec = cache.statuses()[job.id]
    assert rec["status"] == "ok" and rec["path"] == str(rend / f"{bad.UNICODE_NAME}.milk")
    assert cache.frames_path(job.id).exists()


@pytest.mark.parametrize("kind", ["missing", "no manifest", "garbage manifest"])
def test_score_without_a_readable_manifest(kind, tmp_path, capsys):
    pack = bad.missing(tmp_path) if kind == "missing" else bad.empty_dir(tmp_path, "pack")
    if kind == "garbage manifest":
        (pack / "manifest.jsonl").write_bytes(bad.garbage(tmp_path).read_bytes())
    out, cache = tmp_path / "out", tmp_path / "cache"
    rc, stdout, err = bad.run_cli(["refine", "score", str(pack), "--out", str(out), "--cache", str(cache)], capsys)
    assert rc == 2
    if kind == "garbage manifest":
        assert "0 of" in stdout and "set aside" in err
    else:
        bad.one_line_error(err, str(pack))
    assert not out.exists() and not cache.exists()


def test_score_sets_aside_duplicates_true_ids_and_same_file_pairs(tmp_path, capsys):
    """Defect 2: one manifest reader; pair 0 twice used to give two eval rows for pair 0."""
    pack = tmp_path / "pack"
    for side, name in (("fg", AGITATOR), ("bg", AIRS), ("bg", AIRHANDLER)):
        (pack / side).mkdir(parents=True, exist_ok=True)
        shutil.copy(bad.DEBIAN / name, pack / side / name)
    rows = [
        {"pair": 0, "fg": f"fg/{AGITATOR}", "bg": f"bg/{AIRS}"},
        {"pair": 1, "fg": f"fg/{AGITATOR}", "bg": f"bg/{AIRHANDLER}"},
        {"pair": 0, "fg": f"fg/{AGITATOR}", "bg": f"bg/{AIRHANDLER}"},
        {"pair": True, "fg": f"fg/{AGITATOR}", "bg": f"bg/{AIRS}"},
        {"pair": 5, "fg": f"bg/{AIRS}", "bg": f"bg/{AIRS}"},
    ]
    (pack / "manifest.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
    out = tmp_path / "out"
    rc, stdout, err = bad.run_cli(
        ["refine", "score", str(pack), "--out", str(out), "--workers", "1", "--cache", str(tmp_path / "cache")], capsys
    )
    assert rc == 1, stdout + err  # partial: 3 of 5 rows set aside
    assert "2 of 5 manifest rows scored (3 set aside" in stdout
    assert "duplicate pair: 1" in err and "invalid manifest line: 1" in err and "same preset file on both layers: 1" in err
    pairs = [json.loads(line)["pair"] for line in (out / "eval.jsonl").read_text().splitlines()]
    assert sorted(set(pairs)) == [0, 1] and pairs.count(0) == pairs.count(1)  # one pair 0, not two (rows per sample)


@pytest.mark.parametrize(
    "rec, retry, is_settled",
    [
        ({"status": "ok", "path": "/abs/x.milk"}, (), True),
        ({"status": "black", "path": "/abs/x.milk"}, (), True),
        ({"status": "black", "path": "rend3/x.milk"}, (), False),  # written by the cwd bug: maybe a false black
        ({"status": "ok", "path": "rend3/x.milk"}, (), True),  # frames were rendered: not rendered again
        ({"status": "load_error", "path": "/abs/x.milk"}, (), False),  # depends on the path and the disk
        ({"status": "timeout", "path": "/abs/x.milk"}, (), True),
        ({"status": "timeout", "path": "/abs/x.milk"}, ("crash", "timeout"), False),  # --retry-failed
    ],
)
def test_which_cached_statuses_a_rerun_skips(rec, retry, is_settled):
    from aivj.refinery.render import settled

    assert settled(rec, retry) is is_settled


def test_score_out_that_is_a_file_fails_before_rendering(tmp_path, capsys):
    pack = bad.pack(tmp_path, [bad.pair(0)])
    out, cache = tmp_path / "out.json", tmp_path / "cache"
    out.write_text("keep me")
    rc, _, err = bad.run_cli(["refine", "score", str(pack), "--out", str(out), "--cache", str(cache)], capsys)
    assert rc == 2
    bad.one_line_error(err, str(out), "is a file")
    assert out.read_text() == "keep me" and not cache.exists()
