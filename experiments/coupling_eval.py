"""What the learned coupling brings: the score a model's predicted settings achieve on the cached frames,
against the fixed default, one constant setting for every pair, and the searched best.

    .venv/bin/python -m experiments.coupling_eval --model CKPT|VERSION [--data var/cache/coupling/default]
                                                   [--split golden] [--limit N]

Reads the pairs of ``--split`` that have coupling targets (``aivj refine coupling``), scores the
model's settings with ``aivj.refinery.coupling_run.achieved_scores`` (the search's own score), and
prints one JSON object: mean scores, the share of the searched gain recovered, coordinate error
(% of range) and phase error (frames) against the targets. docs/results.md records its output.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import torch

from aivj.contract import coupling as cc
from aivj.contract.layout import pairs_dataset
from aivj.home import state_dir
from aivj.inference import load_scorer
from aivj.refinery.bank import PresetBank
from aivj.refinery.cache import FrameCache
from aivj.refinery.coupling_run import LayerSource, achieved_scores
from aivj.refinery.settings import RenderSettings
from datamodules.pairs import PresetTable


def _targets(table) -> dict[str, np.ndarray]:
    out = {k: table[c].to_numpy().astype(np.float64) for k, c in zip(cc.CONTINUOUS, cc.SETTING_COLUMNS)}
    return out | {"phase": table["coupling_phase"].to_numpy().astype(np.int64)}


def constant_setting(data: Path, n: int) -> dict[str, np.ndarray]:
    """The training targets' median coordinates and most frequent phase, for every pair."""
    t = pairs_dataset(data).to_table(filter=(pc.field("split") == "train") & pc.field("coupling_phase").is_valid())
    tg = _targets(t)
    phase = np.bincount(cc.phase_class(tg["phase"]), minlength=cc.N_PHASES).argmax()
    return {k: np.full(n, np.median(tg[k])) for k in cc.CONTINUOUS} | {"phase": np.full(n, int(cc.phase_shift(phase)))}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--data", type=Path, default=state_dir("cache") / "coupling" / "default")
    p.add_argument("--split", default="golden")
    p.add_argument("--limit", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    t = pairs_dataset(args.data).to_table(filter=(pc.field("split") == args.split) & pc.field("coupling_phase").is_valid())
    t = t.sort_by([("pack", "ascending"), ("pair", "ascending")])
    if args.limit:
        t = t.slice(0, args.limit)
    presets = PresetTable.load(args.data)
    fg_row, bg_row = (presets.index_of(t[c], c) for c in ("fg_id", "bg_id"))
    scorer = load_scorer(args.model)
    enc = scorer.encode_presets(presets.static, presets.render, presets.has_render)
    pred = scorer.coupling_settings(enc, fg_row, bg_row)
    cache = FrameCache(RenderSettings())
    src = LayerSource(cache.load_frames, PresetBank.load(cache.dir / "bank.npz"))
    fg, bg = t["fg_id"].to_pylist(), t["bg_id"].to_pylist()
    achieved = achieved_scores(src, fg, bg, pred)
    fixed = constant_setting(args.data, len(fg))
    constant = achieved_scores(src, fg, bg, fixed)
    default, best = t["score"].to_numpy().astype(np.float64), t["coupling_score"].to_numpy().astype(np.float64)
    target = _targets(t)
    unit = lambda s: cc.normalise(np.stack([s[k] for k in cc.CONTINUOUS], 1))  # noqa: E731
    coord = np.abs(unit(pred) - unit(target)) * 100
    gain = best - default
    print(
        json.dumps(
            {
                "model": scorer.label,
                "split": args.split,
                "pairs": len(fg),
                "score_default": round(float(default.mean()), 4),
                "score_constant_setting": round(float(constant.mean()), 4),
                "score_predicted": round(float(achieved.mean()), 4),
                "score_searched_best": round(float(best.mean()), 4),
                "gain_recovered": round(float((achieved - default).sum() / max(gain.sum(), 1e-9)), 4),
                "gain_recovered_constant": round(float((constant - default).sum() / max(gain.sum(), 1e-9)), 4),
                "pairs_below_default": int((achieved < default - 1e-6).sum()),
                "coord_err_pct": {k: round(float(v), 3) for k, v in zip(cc.CONTINUOUS, coord.mean(0))},
                "coord_err_pct_mean": round(float(coord.mean()), 3),
                "coord_err_pct_mean_constant": round(float((np.abs(unit(fixed) - unit(target)) * 100).mean()), 3),
                "phase_err_frames": round(float(cc.phase_distance(pred["phase"], target["phase"]).mean()), 3),
                "phase_err_frames_constant": round(float(cc.phase_distance(fixed["phase"], target["phase"]).mean()), 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
