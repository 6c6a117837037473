"""``aivj export pairs-coupling``: the file's format and ranges, and a clear refusal for a model without a head."""

from __future__ import annotations

import json

import pytest

from aivj.contract import coupling as cc
from aivj.export.cli import main
from tests.helpers.coupling_models import build, save
from tests.test_export_pairs_quality import make_pack


def test_the_file_holds_every_usable_pair_in_the_apps_ranges(tmp_path, capsys):
    pack = make_pack(tmp_path)
    ckpt = save(build(), tmp_path / "model")
    rc = main(["pairs-coupling", "--pack", str(pack), "--model", str(ckpt), "--render", "never"])
    assert rc == 1  # written, with the pack's missing / broken files counted
    doc = json.loads((pack / "pairs-coupling.v0.json").read_text())
    assert doc["format"] == "pairs-coupling.v0" and doc["scoringPath"] == "static" and doc["model"] == str(ckpt)
    assert doc["stats"] == {"missingFiles": 2, "pairs": 10} and len(doc["pairs"]) == 10
    assert doc["opacityBudget"] == cc.OPACITY_BUDGET
    for p in doc["pairs"]:
        assert set(p) == {"pair", "opacity", "offset", "parallax", "scale", "depth", "phaseBeats"}
        op = p["opacity"]
        assert 0.0 <= op["fg"] <= 1 and 0.0 <= op["bg"] <= 1 and op["fg"] + op["bg"] <= cc.OPACITY_BUDGET + 1e-3
        assert all(-0.25 <= p["offset"][k] <= 0.25 for k in ("x", "y"))
        assert p["parallax"] == pytest.approx(max(abs(p["offset"]["x"]), abs(p["offset"]["y"])), abs=1e-4)
        assert 0 <= p["parallax"] <= 0.25 and 0 <= p["depth"] <= 1 and 1 <= p["scale"] <= 1.5
        assert p["depth"] == pytest.approx((p["scale"] - 1) / 0.5, abs=1e-3)
        assert -0.5 <= p["phaseBeats"] < 0.5 and (p["phaseBeats"] * 16) == pytest.approx(round(p["phaseBeats"] * 16))
    assert "coupling of 10 pairs" in capsys.readouterr().out


def test_a_model_without_a_coupling_head_is_refused_with_one_line(tmp_path, capsys):
    pack = make_pack(tmp_path)
    ckpt = save(build(coupling_head=False), tmp_path / "plain", coupling_head=False)
    assert main(["pairs-coupling", "--pack", str(pack), "--model", str(ckpt), "--render", "never"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no coupling head" in err and len(err.splitlines()) == 1
    assert not (pack / "pairs-coupling.v0.json").exists()
