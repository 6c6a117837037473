"""``aivj compare OLD NEW``: two model versions (or checkpoints) side by side on the golden and fast sets.

    aivj compare OLD NEW [--data data/default] [--out DIR] [--config conf/compare/default.yaml]
                         [--tolerance NAME=VALUE ...] [--registry DIR] [--cache DIR] [--limit N]

Writes ``DIR/report.html`` (verdicts, the worst pairs side by side), ``DIR/heatmaps/*.png`` and
``DIR/compare.json`` (default DIR: ``$AIVJ_HOME/runs/compare/<old>-vs-<new>``). Exit codes: 0 every
tolerance passes, 1 one fails (a gate for CI and the daemon), 2 nothing compared (one line). docs/coupling.md.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "conf" / "compare" / "default.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj compare", description=__doc__.splitlines()[0])
    p.add_argument("old", help="registry version, checkpoint path, or 'champion'")
    p.add_argument("new", help="registry version, checkpoint path, or 'champion'")
    p.add_argument("--data", type=Path, default=Path("data/default"), help="dataset with regression/<set>.parquet")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--tolerance", nargs="+", default=[], metavar="NAME=VALUE", help="e.g. score_pct=3 phase_frames=0")
    p.add_argument("--registry", default=None)
    p.add_argument("--cache", type=Path, default=None, help="frame cache root (default: $AIVJ_HOME/cache/refinery)")
    p.add_argument("--limit", type=int, default=0, help="first N pairs of each set only (0 = all)")
    return p


def load_config(path: Path, overrides: list[str]) -> dict:
    from omegaconf import OmegaConf

    if not Path(path).is_file():
        raise ValueError(f"{path}: no such compare config")
    cfg = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    tol = cfg.get("tolerances") or {}
    for spec in overrides:
        name, _, value = spec.partition("=")
        if name not in tol:
            raise ValueError(f"--tolerance {spec}: unknown tolerance (known: {', '.join(tol)})")
        try:
            tol[name] = float(value)
        except ValueError:
            raise ValueError(f"--tolerance {spec}: {value!r} is not a number") from None
    return cfg


def compare(old, new, data: Path, cfg: dict, load_frames, sample_frames, limit: int = 0):
    """(per-set results, verdict rows) for two loaded scorers."""
    from aivj.compare.report import verdicts
    from aivj.compare.run import compare_set, read_set
    from datamodules.pairs import PresetTable

    presets = PresetTable.load(data)
    results = [
        compare_set(
            old, new, presets, read_set(data, name, presets, limit), load_frames, sample_frames, int(cfg.get("worst", 12))
        )
        for name in cfg.get("sets", ["golden", "fast"])
    ]
    return results, verdicts(results, cfg["tolerances"])


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from aivj.registry.store import RegistryError

    try:
        import torch

        from aivj.compare.report import write_report
        from aivj.contract.atomic import write_json_atomic
        from aivj.home import state_dir
        from aivj.inference import load_scorer
        from aivj.refinery.cache import FrameCache
        from aivj.refinery.settings import RenderSettings

        torch.set_num_threads(1)
        cfg = load_config(args.config, args.tolerance)
        old, new = load_scorer(args.old, args.registry), load_scorer(args.new, args.registry)
        settings = RenderSettings()
        cache = FrameCache(settings, args.cache)
        results, rows = compare(old, new, args.data, cfg, cache.load_frames, settings.sample_frames(), args.limit)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{Path(old.label).name}-vs-{Path(new.label).name}")
        out = args.out or state_dir("runs") / "compare" / slug
        report = write_report(results, rows, (old.label, new.label), out)
        summary = {
            "old": old.label,
            "new": new.label,
            "data": str(args.data),
            "tolerances": cfg["tolerances"],
            "verdicts": rows,
            "sets": {
                r.name: {
                    "pairs": len(r.ssim),
                    "ssim_mean": float(r.ssim.mean()),
                    "psnr_identical": int(np.isinf(r.psnr).sum()),
                    "score_pct_max": float(r.score_pct.max()),
                    "coord_pct_max": float(r.coord_pct.max()),
                    "phase_frames_max": float(r.phase_frames.max()),
                }
                for r in results
            },
            "report": str(report),
        }
        write_json_atomic(summary, out / "compare.json")
    except (ValueError, RegistryError, OSError, KeyError) as exc:
        if os.environ.get("AIVJ_DEBUG"):
            raise
        print(f"aivj compare: {exc}", file=sys.stderr)
        return 2
    failed = [r["tolerance"] for r in rows if not r["pass"]]
    for r in rows:
        print(
            f"{'PASS' if r['pass'] else 'FAIL'} {r['what']}: worst {r['worst']:.4g} (limit {r['limit']}), {r['pairs_over']} pair(s) over"
        )
    print(
        f"{report}: {sum(len(r.ssim) for r in results)} pairs compared; "
        + (f"failed: {', '.join(failed)}" if failed else "every tolerance passes")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
