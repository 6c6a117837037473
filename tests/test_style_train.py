"""A user's labelled folder (WAV, OGG, FLAC and MP3 files) trains end to end, registers, predicts and exports."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
import soundfile as sf

from aivj.style.cli import main as style_cli
from aivj.style.generate import read_manifest
from aivj.style.store import style_registry
from tests.helpers.style_corpus import style_corpus  # noqa: F401  (the session fixture)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORMATS = [("wav", "WAV", "PCM_16"), ("ogg", "OGG", "VORBIS"), ("flac", "FLAC", "PCM_16"), ("mp3", "MP3", None)]


@pytest.mark.slow
def test_a_labelled_folder_trains_registers_predicts_and_exports(style_corpus, tmp_path, monkeypatch, capsys):  # noqa: F811
    folder = tmp_path / "my music"
    files = []
    for i, row in enumerate(read_manifest(style_corpus / "manifest.csv")):
        ext, fmt, subtype = FORMATS[i % len(FORMATS)]
        audio, rate = sf.read(str(style_corpus / row["file"]))
        (folder / row["style"]).mkdir(parents=True, exist_ok=True)
        files.append(folder / row["style"] / f"track {i}.{ext}")
        sf.write(str(files[-1]), audio, rate, format=fmt, subtype=subtype)
    home = tmp_path / "home"
    overrides = ["experiment=style_folder", f"data.root={folder}", "trainer.max_epochs=2", "extras.print_config=false"]
    overrides += ["callbacks.rich_progress_bar=null", "data.windows_per_track=2"]
    run = subprocess.run(
        [sys.executable, "-m", "aivj", "style", "train", *overrides],
        cwd=ROOT,
        env={**os.environ, "AIVJ_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "promoted (no style champion yet)" in run.stdout
    registry = style_registry(home / "registry" / "style")
    champion = registry.champion()
    metrics = registry.metrics(champion)
    assert 0.0 <= metrics["test/track_macro_f1"] <= 1.0 and "val/acc_rock" in metrics
    assert registry.meta(champion)["family"] == "style" and registry.verify() == []

    monkeypatch.setenv("AIVJ_HOME", str(home))
    picked = files[:4]  # one of each format
    assert style_cli(["predict", *map(str, picked), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["file"] for r in rows] == [str(p) for p in picked]
    labels = json.loads((registry.path(champion) / "labels.json").read_text())
    assert all(r["style"] in labels and 1 / len(labels) <= float(r["confidence"]) <= 1 for r in rows)

    out = tmp_path / "style.onnx"
    assert style_cli(["export", "--out", str(out)]) == 0
    front = json.loads(out.with_suffix(".frontend.json").read_text())
    assert front["labels"] == labels and len(front["mel"]) == front["spec"]["n_mels"] == 64
    assert "max |onnx - torch|" in capsys.readouterr().out  # the export checks parity itself and fails past 1e-4
