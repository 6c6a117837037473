"""Scored pairs -> the pairs table (datamodules/schema.py layout) and eval.jsonl-compatible rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from aivj.contract.atomic import write_jsonl_atomic
from aivj.contract.layout import ranks_within_pack, score_bins
from aivj.contract.schema import PAIRS_SCHEMA
from aivj.contract.thresholds import ELITE_SCORE
from aivj.refinery.scoring import WARMUP_SAMPLES


def pairs_table(pack, pair, fg_ids, bg_ids, result: dict, source, split) -> pa.Table:
    """``pack``/``source``/``split``: a string or one per pair; ``result`` from ``scoring.score_pairs``."""
    n = len(fg_ids)
    col = lambda x: np.asarray([x] * n if isinstance(x, str) else x, dtype=object)  # noqa: E731
    pack, source, split = col(pack), col(source), col(split)
    score = np.round(result["score"].astype(np.float64), 4)
    rank, quartile = ranks_within_pack(pack, score)
    return pa.Table.from_pydict(
        {
            "pack": pack.tolist(),
            "pair": np.asarray(pair, np.int64),
            "fg_id": list(fg_ids),
            "bg_id": list(bg_ids),
            "spatial_score": result["spatial_score"].astype(np.float32),
            "temporal_score": result["temporal_score"].astype(np.float32),
            "score": score.astype(np.float32),
            "quality01": (score / 5.0).astype(np.float32),
            "rank": rank,
            "rank_quartile": quartile.tolist(),
            "score_bin": score_bins(score),
            "is_elite": score >= ELITE_SCORE,
            "source": source.tolist(),
            "split": split.tolist(),
        },
        schema=PAIRS_SCHEMA,
    )


def eval_rows(
    pack: str, pair, fg_ids, bg_ids, result: dict, audio_rms: np.ndarray, audio_peak: np.ndarray, warp_diff=None, cx_diff=None
):
    """One row per measured sample (6 per pair), the user's eval.jsonl fields; tMs from the first sample."""
    n_s = result["sample_luma"].shape[1]
    for i in range(len(fg_ids)):
        for k in range(n_s):
            luma, motion = float(result["sample_luma"][i, k]), float(result["sample_motion"][i, k])
            reasons = []
            if luma <= 0.06:
                reasons.append("too-dark")
            if luma >= 0.96:
                reasons.append("too-bright")
            if motion < 1.5e-5:
                reasons.append("low-motion")
            yield {
                "tMs": (k + WARMUP_SAMPLES) * 250,
                "pack": pack,
                "pair": int(pair[i]),
                "warpDiff": None if warp_diff is None else float(warp_diff[i]),
                "cxDiff": None if cx_diff is None else float(cx_diff[i]),
                "quality01": round(float(result["score"][i]) / 5.0, 5),
                "intensity01": None,
                "presetFgId": fg_ids[i],
                "presetBgId": bg_ids[i],
                "vizAvgLuma": round(luma, 6),
                "vizAvgFrameDelta": round(motion, 7),
                "pmAvgLumaFg": round(float(result["sample_luma_fg"][i, k]), 6),
                "pmAvgLumaBg": round(float(result["sample_luma_bg"][i, k]), 6),
                "audioRms": round(float(audio_rms[k]), 5),
                "audioPeak": round(float(audio_peak[k]), 5),
                "pageErrorsSinceLast": 0,
                "consoleErrorsSinceLast": 0,
                "okHeuristic": not reasons,
                "reasons": reasons,
                "sampleScore": round(float(result["sample_score"][i, k]), 5),
            }


def write_jsonl(rows, path: Path) -> int:
    return write_jsonl_atomic(rows, path, sort_keys=False)
