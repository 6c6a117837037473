"""Quality report of a run: report.md and report.html with PNG plots, and a summary against the champion.

``write_report(run_dir, predictions, metrics, champion_metrics=None)``. Tiers by score: A >= 4,
B in [3, 4), C in [2, 3), D < 2 (A matches the elite positives, D the golden negatives' side).
"""

from aivj.report.writer import TIER_EDGES, tiers, write_report

__all__ = ["TIER_EDGES", "tiers", "write_report"]
