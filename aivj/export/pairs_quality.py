"""Score every pair of a pack and write ``pairs-quality.v0.json`` exactly as the web app reads it.

    {"pack": <manifest's pack>, "pairs": [{"pair": 65, "quality01": 0.77}, ...],
     "qualityStats": {"min", "max", "mean", "std", "p50", "p95", "calibration": "std_stretch.v0"},
     "stats": {"missingFiles": N}}

quality01 = predicted score / 5. Pairs with a missing (or unparsable) preset file are left out and
each such file reference is counted in ``missingFiles``. Calibration ``std_stretch.v0``: when the
std is below 0.03 the values are spread around their mean (clamped to [0, 1]) until it is not.
This module holds the contract and the model call; ``pack_export`` decides the scoring path
(render descriptors from the refinery, or static features with has_render = 0) and writes the
``pairs-quality.v0.meta.json`` sidecar (docs/export.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from aivj.export.manifest import read_pack, resolve

MIN_STD = 0.03
CALIBRATION = "std_stretch.v0"
DECIMALS = 6


def std_stretch(q: np.ndarray, min_std: float = MIN_STD) -> np.ndarray:
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    std = q.std()
    if len(q) < 2 or std >= min_std or std == 0.0:  # nothing to spread (or nothing that can be spread)
        return q
    mean, target = q.mean(), min_std * 1.02  # a little margin so rounding keeps std >= min_std
    factor = target / std
    for _ in range(60):  # clamping eats spread: widen until the clamped std reaches the target
        out = np.clip(mean + (q - mean) * factor, 0.0, 1.0)
        if out.std() >= target:
            return out
        factor *= 1.25
    return out


def quality_stats(q: np.ndarray) -> dict:
    if len(q) == 0:
        return {"min": 0.0, "max": 0.0, "mean": 0.0, "std": 0.0, "p50": 0.0, "p95": 0.0, "calibration": CALIBRATION}
    r = lambda x: round(float(x), DECIMALS)  # noqa: E731
    return {"min": r(q.min()), "max": r(q.max()), "mean": r(q.mean()), "std": r(q.std()),
            "p50": r(np.percentile(q, 50)), "p95": r(np.percentile(q, 95)), "calibration": CALIBRATION}


def load_features(pack_dir: Path, pairs) -> tuple[dict[Path, int], np.ndarray, list, int]:
    """Feature rows per distinct file; the usable pairs as (pair, fg row, bg row); missing count."""
    from aivj.milk.features import extract_features
    from aivj.milk.parser import parse_milk

    rows, feats, usable, missing, bad = {}, [], [], 0, set()
    for pair, fg_written, bg_written in pairs:
        idx = []
        for written, side in ((fg_written, "fg"), (bg_written, "bg")):
            path = resolve(pack_dir, written, side)
            if path is not None and path not in rows and path not in bad:
                try:
                    feats.append(extract_features(parse_milk(path.read_bytes(), str(path))))
                    rows[path] = len(feats) - 1
                except ValueError as exc:  # MilkParseError names the file
                    print(f"aivj export: skipping {exc}", file=sys.stderr)
                    bad.add(path)
            idx.append(rows.get(path) if path is not None else None)
        missing += sum(i is None for i in idx)
        if None not in idx:
            usable.append((pair, idx[0], idx[1]))
    matrix = np.stack(feats).astype(np.float32) if feats else np.zeros((0, 64), np.float32)
    return rows, matrix, usable, missing


def score_presets(model, static: np.ndarray, fg_rows, bg_rows, render: np.ndarray | None = None,
                  has_render: np.ndarray | None = None, batch: int = 4096) -> np.ndarray:
    """Model scores of pairs (fg row, bg row) of the per-preset arrays; no render = the static path."""
    import torch

    from aivj.contract.schema import RENDER_DIM

    net = getattr(model, "net", model)
    s = torch.from_numpy(np.ascontiguousarray(static, dtype=np.float32))
    if render is None:
        render, has = torch.zeros(len(s), RENDER_DIM), torch.zeros(len(s))
    else:
        render = torch.from_numpy(np.ascontiguousarray(render, dtype=np.float32))
        has = torch.from_numpy(np.ascontiguousarray(has_render, dtype=np.float32))
    fg, bg = torch.as_tensor(fg_rows, dtype=torch.long), torch.as_tensor(bg_rows, dtype=torch.long)
    out = []
    with torch.no_grad():
        enc = net.encode_presets(s, render, has) if hasattr(net, "encode_presets") else None
        for i in range(0, len(fg), batch):
            f, b = fg[i:i + batch], bg[i:i + batch]
            if enc is not None:
                score = net.score_pairs(enc, f, b)
                score = score["score"] if isinstance(score, dict) else score
            else:
                score = net({"fg_static": s[f], "bg_static": s[b], "fg_render": render[f], "bg_render": render[b],
                             "fg_has_render": has[f], "bg_has_render": has[b]})["score"]
            out.append(score.float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


def document(pack_name: str, pair_ids, scores, missing: int) -> dict:
    """The browser's file from 0-5 scores (the only place its keys are written)."""
    q = np.round(std_stretch(np.asarray(scores, dtype=np.float64) / 5.0), DECIMALS)
    return {"pack": pack_name,
            "pairs": [{"pair": int(p), "quality01": float(v)} for p, v in zip(pair_ids, q)],
            "qualityStats": quality_stats(q),
            "stats": {"missingFiles": int(missing)}}


def pairs_quality(pack_dir: Path, model) -> dict:
    """The static path alone (no renders, no gate): kept for callers that score text only."""
    pack = read_pack(pack_dir)
    _, static, usable, missing = load_features(Path(pack_dir), pack.pairs)
    scores = score_presets(model, static, [u[1] for u in usable], [u[2] for u in usable])
    return document(pack.pack, [u[0] for u in usable], scores, missing)
