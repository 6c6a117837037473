"""How repeatable is a preset's render, and so the label? The ceiling of any static model (issue 12).

The refinery renders every preset once, with ``srand(1234)``. Many presets call ``rand()`` in their
equations, so a second seed gives another, equally valid render of the same text. This study
renders a random sample of the dataset's presets again under other seeds (a separate frame cache)
and prints (a) per-preset R^2 of render-summary values, seed 1234 predicting seed S, and
(b) pairwise agreement of the refinery's pair scores under seed 1234 with those under seed S,
on random pairs of the sample. A static model sees only the text, so (a) and (b) bound what it can
reach against one seed's labels; the render path reads the labelled render itself.

    .venv/bin/python experiments/render_noise_study.py [--n 200] [--seeds 99 7] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from aivj.export.pack_export import agreement
from aivj.refinery.cache import FrameCache, default_root
from aivj.refinery.descriptors import SUMMARY_NAMES
from aivj.refinery.library import load_bank
from aivj.refinery.render import Job, render_presets
from aivj.refinery.scoring import score_pairs
from aivj.refinery.settings import RenderSettings
from experiments.static_features_study import r2

TARGETS = ("mean_luma", "motion", "vitality", "colourfulness")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/default")
    ap.add_argument("--cache", default=str(default_root()), help="the dataset's frame cache (read only)")
    ap.add_argument("--out", default="build/noise_study", help="frame caches of the other seeds")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=3000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[99])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    base = FrameCache(RenderSettings(), Path(args.cache))  # the settings data/default was built with
    status = base.statuses()
    ids = [r["preset_id"] for r in pq.read_table(Path(args.data) / "presets.parquet", columns=["preset_id", "render_summary"]).to_pylist()
           if r["render_summary"] is not None and status.get(r["preset_id"], {}).get("status") == "ok"]  # fmt: skip
    sample = sorted(np.random.default_rng(0).choice(ids, size=min(args.n, len(ids)), replace=False).tolist())
    rng = np.random.default_rng(1)
    fg, bg = rng.integers(0, len(sample), args.pairs), rng.integers(0, len(sample), args.pairs)
    ref_bank = load_bank(base, sample, progress=False)
    ref_scores = score_pairs(ref_bank, fg, bg)["score"]
    ref = np.stack([ref_bank.descriptors[k]["summary"] for k in sample])
    print(
        f"{len(sample)} presets of {args.data}, {args.pairs} random pairs; reference seed {base.settings.seed}, cache {base.dir}"
    )
    print("| seed | ok in both | " + " | ".join(f"R^2 {t}" for t in TARGETS) + " | pair-score pairwise agreement |")
    for seed in args.seeds:
        other = FrameCache(replace(base.settings, seed=seed), Path(args.out))
        done = render_presets([Job(k, status[k]["path"]) for k in sample], other.settings, other, workers=args.workers)
        ok = [k for k in sample if done.get(k, {}).get("status") == "ok"]
        bank = load_bank(other, ok, progress=False)
        pos = {k: i for i, k in enumerate(sample)}
        keep = np.array([pos[k] for k in ok])
        desc = np.stack([bank.descriptors[k]["summary"] for k in ok])
        r2s = [r2(desc[:, SUMMARY_NAMES.index(t)], ref[keep, SUMMARY_NAMES.index(t)]) for t in TARGETS]
        remap = -np.ones(len(sample), np.int64)
        remap[keep] = np.arange(len(ok))
        both = (remap[fg] >= 0) & (remap[bg] >= 0)
        scores = score_pairs(bank, remap[fg[both]], remap[bg[both]])["score"]
        agree = agreement(scores, ref_scores[both])["pairwise_acc"]  # the project's metric, reference = seed 1234
        print(f"| {seed} | {len(ok)} | " + " | ".join(f"{v:.3f}" for v in r2s) + f" | {agree:.3f} |", flush=True)
    (Path(args.out) / "last.json").write_text(json.dumps({"sample": sample}) + "\n")


if __name__ == "__main__":
    main()
