"""Labels measured by the web app's rendered evaluation: ``eval.jsonl`` and ``pair_summary_v2.csv``.

Both give a 0-1 quality per (pack, pair); the importer stores ``quality01`` = that value and
``score`` = 5 x it. ``eval.jsonl`` rows are per sample and are aggregated here with the v2 sample
score (mean over the pair's samples that have a luma); ``pair_summary_v2.csv`` already holds that
mean as ``avgScore``. Samples without luma (``no-luma``) carry no score and are skipped.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from aivj.ingest.readers import as_float
from aivj.ingest.sources import pair_number

LUMA_FLOOR, LUMA_SPAN = 0.06, 0.12
MOTION_FLOOR, MOTION_CEIL = 1.5e-5, 6e-4


def _clamp01(x: float) -> float:
    return min(1.0, max(0.0, x))


def sample_score_v2(luma: float, motion: float) -> float:
    """``0.65 * clamp01((luma - 0.06) / 0.12) + 0.35 * clamp01((motion - 1.5e-5) / (6e-4 - 1.5e-5))``."""
    return 0.65 * _clamp01((luma - LUMA_FLOOR) / LUMA_SPAN) + 0.35 * _clamp01(
        (motion - MOTION_FLOOR) / (MOTION_CEIL - MOTION_FLOOR)
    )


def read_eval_jsonl(path: Path) -> dict[tuple[str, int], float]:
    sums: dict[tuple[str, int], list[float]] = {}
    default_pack = path.parent.name
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line of a log that was still being written
            if not isinstance(row, dict) or row.get("pair") is None:
                continue
            luma, motion = as_float(row.get("vizAvgLuma")), as_float(row.get("vizAvgFrameDelta"))
            if luma is None or not math.isfinite(luma):
                continue
            motion = motion if motion is not None and math.isfinite(motion) else 0.0
            key = (str(row.get("pack") or default_pack), pair_number(row["pair"], -1))
            acc = sums.setdefault(key, [0.0, 0])
            acc[0] += sample_score_v2(luma, motion)
            acc[1] += 1
    return {key: total / n for key, (total, n) in sums.items()}


def read_pair_summary(path: Path) -> dict[tuple[str, int], float]:
    """``avgScore`` per pair; NaN kept (quarantined later as a non-finite score)."""
    pack = _pack_of_folder(path.parent)
    out: dict[tuple[str, int], float] = {}
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            score = as_float(row.get("avgScore"))
            if row.get("pair") in (None, "") or score is None:
                continue
            out[(pack, pair_number(row["pair"], -1))] = score
    return out


def _pack_of_folder(folder: Path) -> str:
    runtime = folder / "pairs-manifest.v0.json"
    if runtime.is_file():
        try:
            pack = json.loads(runtime.read_text(encoding="utf-8-sig")).get("pack")
            if pack:
                return str(pack)
        except (OSError, ValueError, AttributeError):
            pass
    return folder.name


def read_labels(paths: list[Path]) -> dict[tuple[str, int], float]:
    """All label files; ``eval.jsonl`` (raw samples) wins over a summary CSV for the same pair."""
    csv_labels: dict = {}
    eval_labels: dict = {}
    for path in paths:
        if path.name == "eval.jsonl":
            eval_labels.update(read_eval_jsonl(path))
        else:
            csv_labels.update(read_pair_summary(path))
    return {**csv_labels, **eval_labels}
