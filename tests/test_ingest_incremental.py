"""Re-runs write identical data; a grown input parses only new files; refinery columns survive."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_milk import coupled_pack, elite_pack, eval_labels  # noqa: E402

from aivj.contract.layout import pairs_dataset, write_parquet_atomic  # noqa: E402
from aivj.ingest.convert import convert  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _digest(out: Path) -> dict[str, str]:
    files = [
        out / "presets.parquet",
        out / "elite.parquet",
        out / "_quarantine.jsonl",
        *sorted((out / "pairs").rglob("*.parquet")),
    ]
    return {str(f.relative_to(out)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_rerun_is_identical_and_uses_the_registry(tmp_path):
    pack = coupled_pack(tmp_path / "aidata", "pack", 6)
    eval_labels(pack, list(range(6)))
    elite_pack(tmp_path / "aidata", 4)
    first = convert([tmp_path / "aidata"], tmp_path / "out", progress=False).summary
    digest = _digest(tmp_path / "out")
    second = convert([tmp_path / "aidata"], tmp_path / "out", progress=False).summary
    assert _digest(tmp_path / "out") == digest
    assert first["presets_parsed"] == 20 and second["presets_parsed"] == 0 and second["presets_cached"] == 20
    assert second["pairs_new"] == 0 and (tmp_path / "out" / "_registry.json").is_file()


def test_grown_input_adds_only_new_pairs_and_matches_a_fresh_run(tmp_path):
    pack = coupled_pack(tmp_path / "aidata", "pack", 5)
    eval_labels(pack, list(range(5)))
    convert([pack], tmp_path / "out", progress=False)
    coupled_pack(tmp_path / "aidata", "pack", 3, start=5)  # appends to manifest.jsonl
    eval_labels(pack, [5, 6, 7])
    grown = convert([pack], tmp_path / "out", progress=False).summary
    assert grown["presets_parsed"] == 6 and grown["presets_cached"] == 10 and grown["pairs_new"] == 3
    fresh = convert([pack], tmp_path / "fresh", progress=False).summary
    assert fresh["presets_parsed"] == 16
    assert _digest(tmp_path / "out") == _digest(tmp_path / "fresh")


def test_changed_file_is_reparsed_and_refinery_columns_survive(tmp_path):
    pack = coupled_pack(tmp_path / "aidata", "pack", 3, "relative")
    eval_labels(pack, [0, 1, 2])
    out = tmp_path / "out"
    convert([pack], out, progress=False)
    presets = pq.read_table(out / "presets.parquet")
    rendered = presets.set_column(presets.schema.get_field_index("render_summary"), "render_summary",
                                  pa.array([[0.5] * 16] * presets.num_rows, presets.schema.field("render_summary").type))  # fmt: skip
    write_parquet_atomic(rendered, out / "presets.parquet")
    target = pack / "fg" / "coupled_00000_20260129_015409_fg.milk"
    target.write_text(target.read_text().replace("fRating=5.000000", "fRating=4.000000"))
    summary = convert([pack], out, progress=False).summary
    assert summary["presets_parsed"] == 1
    after = pq.read_table(out / "presets.parquet").to_pylist()
    kept = [r for r in after if r["render_summary"] is not None]
    assert len(kept) == len(after) - 1  # the changed preset is a new content hash, not rendered yet


@pytest.mark.slow  # a subprocess with a cold interpreter
def test_script_and_sample(tmp_path):
    pack = coupled_pack(tmp_path / "aidata", "pack", 6)
    eval_labels(pack, list(range(6)))
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "convert_to_parquet.py"),
        str(tmp_path / "aidata"),
        "--output",
        str(tmp_path / "out"),
        "--sample",
        "4",
        "--no-progress",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "4 pairs written" in proc.stdout
    assert pairs_dataset(tmp_path / "out").count_rows() == 4
    assert json.loads((tmp_path / "out" / "_summary.json").read_text())["rows_in"] == 4
