"""Run the results matrix (models, ablations, inputs) over seeds and write docs/results.md.

    .venv/bin/python experiments/results_matrix.py --seeds 1 2 3 --parallel 2 [--rows full mlp ...] [--epochs 2]

Every row is a plain ``train.py`` command (printed in the table) run once per seed as a
subprocess with one torch thread; finished runs are reused, so an interrupted matrix resumes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from aivj.home import state_dir

ROOT = Path(__file__).resolve().parents[1]
OUT = state_dir("runs") / "results"

DEBIAN, CREAM = "projectm-data", "cream-of-the-crop"
ROWS: dict[str, list[str]] = {
    "full": ["experiment=full"],
    # one-input networks have no second path to drop to: no render dropout, no render predictor
    "full_static": [
        "experiment=full",
        "model.net.inputs=static",
        "model.net.render_dropout=0",
        "model.net.render_predictor=false",
    ],
    "full_render": [
        "experiment=full",
        "model.net.inputs=render",
        "model.net.render_dropout=0",
        "model.net.render_predictor=false",
    ],
    "no_attention": ["experiment=ablation_no_attention"],
    "no_reweight": ["experiment=ablation_no_reweight"],
    "no_adaptive": ["experiment=ablation_no_adaptive"],
    "beta_0.5": ["experiment=full", "model.loss.beta=0.5"],
    "beta_2.0": ["experiment=full", "model.loss.beta=2.0"],
    "mlp": ["experiment=full", "model=mlp"],
    "mlp_static": ["experiment=full", "model=mlp", "model.net.inputs=static"],
    "linear_st": ["experiment=full", "model=linear_st"],
    "gbdt": ["experiment=full", "model=gbdt"],
    "gbdt_static": ["experiment=full", "model=gbdt", "model.net.inputs=static"],
    # Cross-corpus: train (and validate) on one collection's pairs, test on the other's unseen pairs.
    "full_debian_to_cream": ["experiment=full", f"data.train_collections=[{DEBIAN}]", f"data.test_collections=[{CREAM}]"],
    "full_cream_to_debian": ["experiment=full", f"data.train_collections=[{CREAM}]", f"data.test_collections=[{DEBIAN}]"],
    "gbdt_static_debian_to_cream": [
        "experiment=full",
        "model=gbdt",
        "model.net.inputs=static",
        f"data.train_collections=[{DEBIAN}]",
        f"data.test_collections=[{CREAM}]",
    ],
}
COLUMNS = [
    ("test_unseen/pairwise_acc", "unseen pair-acc (render path)"),
    ("static/test_unseen/pairwise_acc", "unseen pair-acc (static path)"),
    ("test_seen/pairwise_acc", "seen pair-acc"),
    ("test_unseen/spearman", "unseen Spearman"),
    ("test_golden/pass_rate", "golden pass (render)"),
    ("static/test_golden/pass_rate", "golden pass (static)"),
    ("val/loss", "val loss"),
]
# The gates watch but do not intervene (no rollback, best = best val/pairwise_acc): each row measures its model.
FIXED = [
    "registry.enabled=false",
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
    "logger=many_loggers",
    "callbacks.golden_gate.rollback=false",
    "callbacks.drift_monitor.rollback=false",
    "callbacks.model_checkpoint.monitor=val/pairwise_acc",
]


def run_one(row: str, seed: int, epochs: int | None) -> dict | None:
    run_dir = OUT / row / f"seed{seed}"
    if (run_dir / "metrics.json").exists():
        return json.loads((run_dir / "metrics.json").read_text())["metrics"]
    overrides = [*ROWS[row], f"seed={seed}", *FIXED, f"hydra.run.dir={run_dir}"]
    if epochs:
        overrides.append(f"trainer.max_epochs={epochs}")
    t0 = time.time()
    proc = subprocess.run([sys.executable, "train.py", *overrides], cwd=ROOT, capture_output=True, text=True)
    status = "ok" if proc.returncode == 0 else f"FAILED rc={proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}"
    print(f"{row:<14} seed {seed}: {status} in {time.time() - t0:.0f} s", flush=True)
    return json.loads((run_dir / "metrics.json").read_text())["metrics"] if proc.returncode == 0 else None


def fmt(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def write_table(results: dict[str, list[dict]], seeds: list[int], epochs: int | None, path: Path) -> None:
    lines = [f"| row | {' | '.join(c[1] for c in COLUMNS)} | command |", "|" + " --- |" * (len(COLUMNS) + 2)]
    for row, runs in results.items():
        runs = [r for r in runs if r]
        if not runs:
            continue
        cells = [fmt([r.get(k) for r in runs]) for k, _ in COLUMNS]
        cmd = "python train.py " + " ".join(ROWS[row]) + (f" trainer.max_epochs={epochs}" if epochs else "") + " seed=S"
        cmd += " (+ the gate overrides above)"
        lines.append(f"| {row} ({len(runs)} seeds) | {' | '.join(cells)} | `{cmd}` |")
    head = (
        f"Measured {date.today()} on 2 CPU cores, no GPU; seeds {seeds}; mean ± std over seeds. Every run adds: "
        f"`{' '.join(FIXED)}`.\n\n"
    )
    path.write_text(head + "\n".join(lines) + "\n")
    print(path.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", nargs="*", default=list(ROWS))
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--one-seed", nargs="*", default=[], help="rows run with the first seed only")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=None, help="override experiment=full's max_epochs")
    ap.add_argument("--table", default=str(OUT / "table.md"))
    ap.add_argument("--collect-only", action="store_true", help="tabulate the finished runs of every row, run nothing")
    args = ap.parse_args()
    if args.collect_only:
        results = {
            row: [json.loads(p.read_text())["metrics"] for p in sorted((OUT / row).glob("seed*/metrics.json"))]
            for row in args.rows
        }
        seeds = sorted({int(p.parent.name[4:]) for p in OUT.glob("*/seed*/metrics.json")})
        write_table(results, seeds, args.epochs, Path(args.table))
        return
    jobs = [(row, seed) for row in args.rows for seed in (args.seeds[:1] if row in args.one_seed else args.seeds)]
    with ThreadPoolExecutor(args.parallel) as pool:
        done = list(pool.map(lambda j: run_one(*j, args.epochs), jobs))
    results: dict[str, list[dict]] = {row: [] for row in args.rows}
    for (row, _), metrics in zip(jobs, done):
        results[row].append(metrics)
    write_table(results, args.seeds, args.epochs, Path(args.table))


if __name__ == "__main__":
    main()
