"""write_report: report.md/html with every plot, tiers, and the summary against the champion."""

from __future__ import annotations

import csv
import json

import numpy as np

from aivj.report import tiers, write_report


def test_tiers_follow_the_documented_thresholds():
    assert tiers([5.0, 4.0, 3.99, 3.0, 2.5, 2.0, 1.99, 0.0]).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_report_has_plots_curves_drift_and_champion_summary(tmp_path):
    rng = np.random.default_rng(0)
    true = rng.uniform(0, 5, 300)
    pred = np.clip(true + rng.normal(0, 0.3, 300), 0, 5)
    split = np.where(np.arange(300) < 100, "golden", "val")
    (tmp_path / "csv").mkdir()
    with open(tmp_path / "csv" / "metrics.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["epoch", "step", "val/loss", "golden/pass_rate"])
        w.writeheader()
        for e in range(3):
            w.writerow({"epoch": e, "step": 10 * e, "val/loss": 1.0 / (e + 1), "golden/pass_rate": 0.9 + 0.03 * e})
    (tmp_path / "pred_histograms.json").write_text(
        json.dumps({"bins": 10, "reference": [5] * 10, "reference_source": "champion v1_abcd", "kl": [{"epoch": 1, "kl": 0.02}]})
    )
    metrics = {"golden/pass_rate": 0.99, "val/pairwise_acc": 0.85}
    md, html = write_report(
        tmp_path,
        {"pred": pred, "score": true, "split": split},
        metrics,
        champion_metrics={"golden/pass_rate": 0.95, "val/pairwise_acc": 0.80},
    )
    text = md.read_text()
    for png in ("pred_vs_true", "calibration", "tier_confusion", "metric_curves", "golden_pass", "drift", "champion_comparison"):
        assert f"report_plots/{png}.png" in text and (tmp_path / "report_plots" / f"{png}.png").stat().st_size > 1000
    assert "| golden pass rate | 0.9900 | 0.9500 | +0.0400 (+4.2%) |" in text
    assert "| val/pairwise_acc | 0.8500 | 0.8000 | +0.0500 (+6.2%) |" in text
    page = html.read_text()
    assert page.count("data:image/png;base64,") == 7 and "Pass rate, improvement, visual comparison" in page


def test_report_without_champion_or_logs(tmp_path):
    md, _ = write_report(tmp_path, {"pred": [4.5, 1.0, 3.5], "score": [4.2, 1.5, 1.0]}, {})
    text = md.read_text()
    assert "(no champion yet)" in text and "champion_comparison" not in text
    assert "golden pass rate: 0.6667" in text  # the 1.0-scored negative predicted 3.5 fails
