"""``aivj style pick``: a pack's pairs re-ranked for a piece of music.

    final = (1 - w) * quality01 + w * (0.6 * style_fit + 0.4 * coupling_fit)     w = style_weight * confidence

quality01 is the pair score of the coupling model (``aivj.inference.load_scorer``; score / 5),
style_fit and coupling_fit come from the blended visual profile (aivj/style/visuals.py), coupling is
the mean of the model's predicted S and T for the pair (where the scorer predicts them; otherwise
coupling_fit is left out and style_fit takes its share). ``confidence`` is the style model's top
probability, so uncertain music leans on pair quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from aivj.inference.packs import load_features, read_pack
from aivj.milk.hashing import content_hash
from aivj.milk.parser import parse_milk
from aivj.style.visuals import VisualProfile, preset_tags


@dataclass
class RankedPair:
    pair: int
    quality01: float
    style_fit: float
    coupling: float | None
    final: float
    fg: str
    bg: str


def categories_by_hash(dataset: Path | None) -> dict[str, str]:
    """preset id (content hash) -> category, from a dataset's presets.parquet (empty when there is none)."""
    if dataset is None or not (Path(dataset) / "presets.parquet").is_file():
        return {}
    import pyarrow.parquet as pq

    table = pq.read_table(Path(dataset) / "presets.parquet", columns=["preset_id", "category"])
    return {i: c for i, c in zip(table.column("preset_id").to_pylist(), table.column("category").to_pylist()) if c}


def _pair_outputs(scorer, static: np.ndarray, fg: list[int], bg: list[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """(score 0-5, coupling 0-1 or None) per pair."""
    if not hasattr(scorer.net, "encode_presets"):
        return scorer.score_presets(static, fg, bg), None
    with torch.no_grad():
        out = scorer.net.score_pairs(scorer.encode_presets(static), torch.as_tensor(fg), torch.as_tensor(bg))
    if not isinstance(out, dict):
        return out.float().numpy(), None
    coupling = None
    if "spatial" in out and "temporal" in out:
        coupling = ((out["spatial"] + out["temporal"]) / 2).float().clamp(0, 1).numpy()
    return out["score"].float().numpy(), coupling


def rank_pack(pack_dir: Path, scorer, profile: VisualProfile, confidence: float, categories: dict[str, str]) -> list[RankedPair]:
    pack = read_pack(pack_dir)
    rows, static, usable, _ = load_features(Path(pack_dir), pack.pairs)
    if not usable:
        raise ValueError(f"{pack_dir}: no usable pair (every pair misses or breaks a preset file)")
    path_of = {row: path for path, row in rows.items()}
    fit = {}
    for row, path in path_of.items():
        data = path.read_bytes()
        fit[row] = profile.preset_fit(categories.get(content_hash(data)), preset_tags(parse_milk(data, str(path)).entries()))
    fg, bg = [u[1] for u in usable], [u[2] for u in usable]
    scores, coupling = _pair_outputs(scorer, static, fg, bg)
    w = profile.style_weight * confidence
    out = []
    for i, (pair, f, b) in enumerate(usable):
        style_fit = (fit[f] + fit[b]) / 2
        c = None if coupling is None else float(coupling[i])
        visual = style_fit if c is None else 0.6 * style_fit + 0.4 * profile.coupling_fit(c)
        quality = float(np.clip(scores[i] / 5.0, 0, 1))
        final = (1 - w) * quality + w * visual
        out.append(RankedPair(pair, quality, style_fit, c, final, path_of[f].name, path_of[b].name))
    return sorted(out, key=lambda r: (-r.final, r.pair))
