"""The pipeline's report stage: the final run's quality report (aivj.report) and ``pipeline_report.md``.

The quality report compares the new model with the champion it had to beat (recorded by the promote
stage before promotion), from predictions on the test splits and the golden set.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import open_dict

from aivj.contract.atomic import write_json_atomic
from aivj.contract.thresholds import GOLDEN_PASS_RATE
from aivj.pipeline.config import compose_train


def final_predictions(overrides: list[str], run_dir: Path, ckpt: str) -> dict:
    from aivj.inference.checkpoint import read_checkpoint
    from aivj.training import build, collect_predictions

    cfg = compose_train(overrides, run_dir)
    with open_dict(cfg):
        del cfg["hydra"]
    model = build(cfg.model)
    model.load_state_dict(read_checkpoint(ckpt)["state_dict"])  # weights only: a checkpoint cannot run code
    datamodule = build(cfg.data)
    datamodule.setup("test")
    return collect_predictions(model, datamodule, list(dict.fromkeys(datamodule.test_split_names)))


def write_pipeline_report(ctx) -> list[Path]:
    from aivj.report import write_report

    trained, promoted = ctx.done["train"], ctx.done["promote"]
    run_dir = Path(trained["run_dir"])
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    predictions = final_predictions(trained["overrides"], run_dir, trained["best_checkpoint"])
    md, html = write_report(
        run_dir,
        predictions,
        metrics,
        promoted.get("previous_metrics"),
        golden_threshold=ctx.done["gate"].get("threshold", GOLDEN_PASS_RATE),
    )
    summary = ctx.out / "pipeline_report.md"
    lines = ["# Training pipeline report", "", "| stage | outcome | seconds |", "|---|---|---|"]
    for name, data in ctx.done.items():
        lines.append(f"| {name} | {data.get('outcome', '')} | {data.get('seconds', 0):.1f} |")
    search = ctx.done.get("search", {})
    lines += [
        "",
        "## Search",
        "",
        f"- study: `{search.get('storage')}` (open with `optuna-dashboard` or optuna.load_study"
        f"(study_name='pipeline', storage=...))",
        f"- best trial {search.get('best_trial')}: value {search.get('best_value')}",
        "",
        "```json",
        json.dumps(search.get("best_params", {}), indent=2),
        "```",
        "",
        "## Final run",
        "",
        f"- folder: `{run_dir}`",
        f"- quality report: `{md}` and `{html}`",
        f"- registry: {promoted['version']} in `{promoted['registry']}`, "
        f"{'promoted to champion' if promoted['promoted'] else 'kept as candidate'}",
        f"- champion it was compared with: {promoted.get('previous_champion') or 'none'}",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()) if isinstance(v, (int, float))]
    tmp = summary.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(summary)
    write_json_atomic(
        {"metrics": metrics, "search": search, "promote": {k: v for k, v in promoted.items() if k != "previous_metrics"}},
        ctx.out / "pipeline_summary.json",
    )
    return [summary, Path(md), Path(html)]
