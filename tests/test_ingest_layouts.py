"""Each aidata layout maps into the presets/pairs tables with the right scores, ranks and splits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fixtures_milk import (  # noqa: E402
    alchemy_pack,
    coupled_pack,
    elite_pack,
    eval_labels,
    runtime_pack,
    summary_csv,
)

from aivj.contract.layout import pairs_dataset, read_presets  # noqa: E402
from aivj.ingest.convert import convert  # noqa: E402
from aivj.ingest.labels import sample_score_v2  # noqa: E402


def _pairs(out: Path):
    return pairs_dataset(out).to_table().to_pandas().sort_values(["pack", "pair"]).reset_index(drop=True)


@pytest.mark.parametrize("style", ["wsl", "windows", "relative"])
def test_coupled_pack_with_eval_labels(tmp_path, style):
    pack = coupled_pack(tmp_path / "aidata", "aivj_coupled_refinery_v2", 6, style)
    eval_labels(pack, list(range(6)), luma=0.15, motion=3e-4)
    result = convert([pack], tmp_path / "out", progress=False)
    df = _pairs(tmp_path / "out")
    assert result.summary["rows_written"] == 6 and list(df["pair"]) == list(range(6))
    expected = [5 * sample_score_v2(0.15 + 0.01 * (p % 5), 3e-4) for p in range(6)]
    assert np.allclose(df["score"], expected, atol=1e-5) and np.allclose(df["quality01"], np.array(expected) / 5, atol=1e-6)
    assert sorted(df["rank"]) == list(range(1, 7)) and df.loc[df["score"].idxmax(), "rank"] == 1
    assert set(df["source"]) == {"coupled"} and not df["is_elite"].any()
    assert set(df["split"]) <= {"train", "val", "test_seen", "test_unseen"}
    presets = read_presets(tmp_path / "out")
    assert presets.num_rows == 12 and set(df["fg_id"]) | set(df["bg_id"]) == set(presets["preset_id"].to_pylist())


def test_elite_manifest_as_list_and_object(tmp_path):
    for as_list in (True, False):
        root = tmp_path / ("list" if as_list else "obj")
        elite_pack(root, 8, as_list=as_list)
        convert([root], root / "out", progress=False)
        df = _pairs(root / "out")
        assert len(df) == 8 and df["is_elite"].all() and set(df["split"]) == {"golden"}
        assert list(df["rank"]) == [8 - i for i in range(8)]  # the manifest's own ranks
        assert set(df["score"]) == {4.5, 1.5} and set(df["source"]) == {"elite"}
        assert pq.read_table(root / "out" / "elite.parquet").num_rows == 8


def test_elite_without_rank_is_ranked_by_score(tmp_path):
    elite_pack(tmp_path, 8, with_rank=False)
    convert([tmp_path], tmp_path / "out", progress=False)
    df = _pairs(tmp_path / "out")
    assert (df.sort_values("rank")["score"].diff().dropna() <= 0).all()


def test_alchemy_quality_and_summary_csv_and_runtime(tmp_path):
    root = tmp_path / "aidata"
    alchemy_pack(root, 5)
    rt = runtime_pack(root, "rt_pack", 4)
    summary_csv(rt, {0: 0.2, 1: 0.9, 2: 0.5, 3: 0.7})
    convert([root], tmp_path / "out", progress=False)
    df = _pairs(tmp_path / "out")
    alc = df[df["pack"] == "deep_alchemy_10h"]
    assert np.allclose(alc["quality01"], [0.5, 0.54, 0.58, 0.62, 0.66]) and set(alc["source"]) == {"alchemy"}
    rtd = df[df["pack"] == "rt_pack"]
    assert np.allclose(rtd["score"], [1.0, 4.5, 2.5, 3.5]) and list(rtd["rank"]) == [4, 1, 3, 2]
    assert list(rtd["rank_quartile"]) == ["Q4", "Q1", "Q3", "Q2"] and list(rtd["score_bin"]) == [1, 4, 2, 3]


def test_partitions_on_disk(tmp_path):
    pack = coupled_pack(tmp_path, "p", 8, "relative")
    eval_labels(pack, list(range(8)), luma=0.10)
    convert([pack], tmp_path / "out", progress=False)
    parts = {p.parent.relative_to(tmp_path / "out" / "pairs").as_posix() for p in (tmp_path / "out" / "pairs").rglob("*.parquet")}
    assert parts and all(p.startswith("score_bin=") and "/rank_quartile=Q" in p for p in parts)
    summary = json.loads((tmp_path / "out" / "_summary.json").read_text())
    assert summary["rows_in"] == 8 == summary["rows_written"] + summary["rows_quarantined"]


def test_manifest_file_as_input_finds_labels_beside_it(tmp_path):
    pack = coupled_pack(tmp_path, "p", 3)
    eval_labels(pack, [0, 1, 2])
    result = convert([pack / "manifest.jsonl"], tmp_path / "out", progress=False)
    assert result.summary["rows_written"] == 3 and result.summary["status"] == "ok"
