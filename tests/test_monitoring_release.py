"""``aivj report release``: pass rates, metric changes, latency of both models, drift, plots side by side."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pytest

from aivj.report.cli import main as report_cli
from callbacks.histogram import kl_divergence
from tests.helpers.tiny_module import trust_test_helpers
from tests.helpers.tiny_versions import PASSING, register_tiny

CHAMPION_HIST = [5, 10, 20, 10, 5]
CANDIDATE_HIST = [2, 6, 20, 14, 8]


def _png(colour: str) -> bytes:
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.bar([0], [1], color=colour)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


@pytest.fixture
def pair(tmp_path, monkeypatch):
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    trust_test_helpers(monkeypatch)
    reg = tmp_path / "registry"
    champion = register_tiny(reg, tmp_path, PASSING, "champ", 0, CHAMPION_HIST, {"calibration.png": _png("k")})
    candidate_metrics = {**PASSING, "golden/pass_rate": 0.995, "static/golden/pass_rate": 0.65}
    candidate = register_tiny(reg, tmp_path, candidate_metrics, "cand", 1, CANDIDATE_HIST, {"calibration.png": _png("r")})
    return reg, candidate, champion


def test_the_release_report_compares_the_candidate_with_the_champion(tmp_path, pair):
    reg, candidate, champion = pair
    out = tmp_path / "out"
    args = ["release", "--candidate", candidate, "--champion", champion, "--registry", str(reg), "--out", str(out)]
    assert report_cli(args) == 0
    md = (out / "release.md").read_text()
    assert f"# Release report: {candidate} vs champion {champion}" in md
    assert "| render golden pass rate | 0.9950 | 0.9900 | yes: render path passes" in md
    assert "| static golden pass rate | 0.6500 | 0.8000 | no: static-path static/golden/pass_rate = 0.6500 < 0.7 |" in md
    assert "| golden/pass_rate | 0.9950 | 0.9900 | +0.0050 |" in md
    assert "| static/golden/pass_rate | 0.6500 | 0.8000 | -0.1500 |" in md
    assert "promotion rule: do not promote: candidate fails required path" in md
    assert f"KL(candidate || champion) = {kl_divergence(CANDIDATE_HIST, CHAMPION_HIST):.4f} nats over 5 bins" in md
    latency = [line for line in md.splitlines() if line.startswith(("| candidate ", "| champion "))]
    assert [line.split(" | ")[0] for line in latency] == [f"| candidate {candidate}", f"| champion {champion}"]
    # the versions' own plots side by side, copied beside the report; the HTML carries every image inline
    assert (
        f"release_plots/{candidate}_calibration.png) ![" in md
        and (out / "release_plots" / f"{champion}_calibration.png").exists()
    )
    page = (out / "release.html").read_text()
    assert page.count("data:image/png;base64,") == md.count("![") == 4  # pass-rate bars, drift, two calibrations


def test_an_unknown_version_is_one_line_naming_the_registry(tmp_path, pair, capsys):
    reg, candidate, _ = pair
    assert report_cli(["release", "--candidate", "v1_zzzz", "--registry", str(reg), "--champion", candidate]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"aivj report: {reg}: no version 'v1_zzzz'") and err.count("\n") == 1
