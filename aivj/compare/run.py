"""Run two models on the same pairs and measure how far apart they are: scores, coupling, composites.

Per pair: the score deviation in % of the 0-5 range, the coupling coordinates' largest difference
in % of their allowed ranges, the phase difference in frames (circular over a beat), and the pair
composited under each model's setting from the frame cache (8 browser sample frames, FG zoomed,
shifted and delayed, ``a_fg * FG' + a_bg * BG`` clipped to [0, 1]) compared with SSIM and PSNR
(torchmetrics). A model without a coupling head couples every pair with the fixed default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from aivj.contract import coupling as cc
from aivj.refinery.coupling_layers import zoom_matrix
from datamodules.pairs import PresetTable


@dataclass
class PairSet:
    name: str
    pack: np.ndarray
    pair: np.ndarray
    fg_id: np.ndarray
    bg_id: np.ndarray
    fg_row: np.ndarray
    bg_row: np.ndarray


def read_set(data_dir: Path, name: str, presets: PresetTable, limit: int = 0) -> PairSet:
    path = Path(data_dir) / "regression" / f"{name}.parquet"
    if not path.is_file():
        raise ValueError(f"{path}: no such regression set (materialised by training on {data_dir})")
    t = pq.read_table(path, columns=["pack", "pair", "fg_id", "bg_id"])
    if limit:
        t = t.slice(0, limit)
    col = lambda c: t[c].to_numpy(zero_copy_only=False)  # noqa: E731
    rows = [presets.index_of(t[c], f"{path} {c}") for c in ("fg_id", "bg_id")]
    return PairSet(name, col("pack"), col("pair"), col("fg_id"), col("bg_id"), *rows)


def default_settings(n: int) -> dict[str, np.ndarray]:
    return {k: np.full(n, float(cc.DEFAULT[k])) for k in cc.CONTINUOUS} | {"phase": np.zeros(n, np.int64)}


def model_outputs(scorer, presets: PresetTable, s: PairSet) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(scores 0-5, coupling settings in app units) of one model on the render path."""
    used = np.unique(np.concatenate([s.fg_row, s.bg_row]))
    local = {int(r): i for i, r in enumerate(used)}
    fg, bg = (np.asarray([local[int(r)] for r in rows]) for rows in (s.fg_row, s.bg_row))
    enc = scorer.encode_presets(presets.static[used], presets.render[used], presets.has_render[used])
    scores = scorer.score_pairs(enc, fg, bg)
    settings = scorer.coupling_settings(enc, fg, bg) if scorer.has_coupling else default_settings(len(fg))
    return np.asarray(scores, np.float64), settings


def composite(fg: np.ndarray, bg: np.ndarray, setting: dict, i: int, sample_frames) -> np.ndarray:
    """[8, 3, S, S] float32 in [0, 1]: pair ``i`` of ``setting`` at the browser's sample frames."""
    size, n = fg.shape[1], fg.shape[0]
    a_y = zoom_matrix(size, float(setting["scale"][i]), float(setting["dy"][i]) * size).astype(np.float32)
    a_x = zoom_matrix(size, float(setting["scale"][i]), float(setting["dx"][i]) * size).astype(np.float32)
    k = int(setting["phase"][i])
    f = np.moveaxis(fg[(np.asarray(sample_frames) - k) % n], -1, 1).astype(np.float32) / 255.0  # [8, 3, S, S]
    b = np.moveaxis(bg[np.asarray(sample_frames)], -1, 1).astype(np.float32) / 255.0
    f = a_y @ f @ a_x.T
    return np.clip(float(setting["fg_opacity"][i]) * f + float(setting["bg_opacity"][i]) * b, 0.0, 1.0)


@dataclass
class SetResult:
    name: str
    pairs: PairSet
    score_pct: np.ndarray  # |new - old| / 5 * 100
    coord_pct: np.ndarray  # max over the coordinates of |new - old| in % of the range
    phase_frames: np.ndarray
    ssim: np.ndarray
    psnr: np.ndarray  # dB, inf where the composites are identical
    scores: tuple[np.ndarray, np.ndarray]
    settings: tuple[dict, dict]
    images: dict  # pair index -> (old composite, new composite), for the worst pairs only


def compare_set(old, new, presets: PresetTable, s: PairSet, load_frames, sample_frames, keep_images: int = 12) -> SetResult:
    (so, co), (sn, cn) = model_outputs(old, presets, s), model_outputs(new, presets, s)
    unit_o = cc.normalise(np.stack([co[k] for k in cc.CONTINUOUS], 1))
    unit_n = cc.normalise(np.stack([cn[k] for k in cc.CONTINUOUS], 1))
    coord = np.abs(unit_n - unit_o).max(1) * 100.0
    phase = cc.phase_distance(co["phase"], cn["phase"]).astype(np.float64)

    def both(i: int) -> tuple[np.ndarray, np.ndarray]:
        fg, bg = load_frames(s.fg_id[i]), load_frames(s.bg_id[i])
        return composite(fg, bg, co, i, sample_frames), composite(fg, bg, cn, i, sample_frames)

    ssim, psnr = np.zeros(len(so)), np.zeros(len(so))
    for i in range(len(so)):
        a, b = (torch.from_numpy(x) for x in both(i))
        ssim[i] = float(structural_similarity_index_measure(b, a, data_range=1.0))
        mse = float((a - b).pow(2).mean())
        psnr[i] = float("inf") if mse == 0.0 else float(peak_signal_noise_ratio(b, a, data_range=1.0))
    score_pct = np.abs(sn - so) / 5.0 * 100.0
    # worst first: each deviation in units of its tolerance's default, SSIM's shortfall x 10
    badness = score_pct / 5.0 + coord / 0.5 + phase + (1.0 - ssim) * 10.0
    images = {int(i): both(int(i)) for i in np.argsort(-badness, kind="stable")[:keep_images]}
    return SetResult(s.name, s, score_pct, coord, phase, ssim, psnr, (so, sn), (co, cn), images)
