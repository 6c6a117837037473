"""``write_report``: gather predictions, logged curves and drift data of a run into report.md/.html.

``predictions``: a mapping or DataFrame with ``pred`` and ``score`` (true, 0-5) and optionally
``split`` (rows with split "golden" are the golden set; without it, every row with score >= 4 or
<= 2 counts). Curves come from the run's CSV logs (``**/metrics.csv``), else its TensorBoard
files; drift from ``pred_histograms.json`` (DriftMonitor).
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from pathlib import Path

import numpy as np

from aivj.contract.thresholds import (
    GOLDEN_PASS_RATE,
    PASS_THRESHOLD,
    TIER_EDGES,
    golden_cases,
)
from aivj.registry.rules import PromotionRules, lookup
from aivj.report import plots

PLOTS_DIR = "report_plots"
CURVE_PREFIXES = ("val/", "golden/", "gate/", "drift/", "train/loss_epoch")


def tiers(score) -> np.ndarray:
    """0 = A (>= 4), 1 = B [3, 4), 2 = C [2, 3), 3 = D (< 2)."""
    return 3 - np.digitize(np.asarray(score, dtype=np.float64), TIER_EDGES)


def _columns(predictions) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    get = lambda k: predictions[k] if k in predictions else None
    pred, true = get("pred"), get("score") if get("score") is not None else get("true")
    if pred is None or true is None:
        raise ValueError("write_report: predictions need 'pred' and 'score' (or 'true') columns")
    split = get("split")
    return (
        np.asarray(pred, dtype=np.float64),
        np.asarray(true, dtype=np.float64),
        None if split is None else np.asarray(split, dtype=object),
    )


def read_curves(run_dir: Path) -> dict[str, list[tuple[float, float]]]:
    curves: dict[str, dict[float, float]] = {}
    for path in sorted(run_dir.rglob("metrics.csv")):
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                if not row.get("epoch"):
                    continue
                for key, value in row.items():
                    if key.startswith(CURVE_PREFIXES) and value not in ("", None):
                        curves.setdefault(key, {})[float(row["epoch"])] = float(value)
    if not curves:
        try:
            from tensorboard.backend.event_processing.event_accumulator import (
                EventAccumulator,
            )
        except ImportError:
            return {}
        for events in sorted({p.parent for p in run_dir.rglob("events.out.tfevents*")}):
            acc = EventAccumulator(str(events)).Reload()
            for tag in acc.Tags().get("scalars", []):
                if tag.startswith(CURVE_PREFIXES):  # x is the step here (no epoch in the file)
                    curves.setdefault(tag, {}).update({float(e.step): e.value for e in acc.Scalars(tag)})
    return {k: sorted(v.items()) for k, v in curves.items()}


def _golden(pred, true, split) -> tuple[tuple[int, int], tuple[int, int], float]:
    mask = (split == "golden") if split is not None and (split == "golden").any() else np.ones(len(true), bool)
    p, t = pred[mask], true[mask]
    pos, neg = golden_cases(t)
    pos_ok, neg_ok = int((pos & (p >= PASS_THRESHOLD)).sum()), int((neg & (p < PASS_THRESHOLD)).sum())
    judged = int(pos.sum() + neg.sum())
    rate = (pos_ok + neg_ok) / judged if judged else float("nan")
    return (pos_ok, int(pos.sum()) - pos_ok), (neg_ok, int(neg.sum()) - neg_ok), rate


def _fmt(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def _summary(metrics: dict, champion: dict | None, golden_rate: float, rules: PromotionRules) -> list[list[str]]:
    rows = [["metric", "candidate", "champion", "change"]]
    for label, names in (
        ("golden pass rate", rules.golden_metric),
        ("elite acc", rules.elite_metric),
        (rules.val_metric[0], rules.val_metric),
    ):
        new = lookup(metrics, names)
        new = golden_rate if new is None and label == "golden pass rate" else new
        old = lookup(champion, names) if champion else None
        change = "-"
        if new is not None and old is not None:
            change = f"{new - old:+.4f}" + (f" ({100 * (new / old - 1):+.1f}%)" if old else "")
        rows.append([label, _fmt(new), _fmt(old), change])
    return rows


def write_report(
    run_dir, predictions, metrics: dict, champion_metrics: dict | None = None, golden_threshold: float = GOLDEN_PASS_RATE
) -> tuple[Path, Path]:
    run_dir = Path(run_dir)
    out = run_dir / PLOTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    metrics = {k: float(v) for k, v in (metrics or {}).items() if isinstance(v, (int, float)) or hasattr(v, "item")}
    pred, true, split = _columns(predictions)
    t_true, t_pred = tiers(true), tiers(pred)
    matrix = np.zeros((4, 4), dtype=int)
    np.add.at(matrix, (t_true, t_pred), 1)
    curves = read_curves(run_dir)
    pos, neg, golden_rate = _golden(pred, true, split)
    rate_curve = curves.get("golden/pass_rate") or curves.get("gate/golden_pass_rate") or []
    hist_path = run_dir / "pred_histograms.json"
    saved = json.loads(hist_path.read_text()) if hist_path.exists() else {}
    bins = int(saved.get("bins", 20))
    current = np.histogram(np.clip(pred, 0, 5), bins=bins, range=(0, 5))[0].astype(float)
    reference = np.asarray(saved["reference"], float) if saved.get("reference") else None
    kl_curve = [(h["epoch"], h["kl"]) for h in saved.get("kl", [])]
    rules = PromotionRules(golden_threshold=golden_threshold)
    summary = _summary(metrics, champion_metrics, golden_rate, rules)
    figures = [
        ("Predicted vs true score", plots.pred_vs_true(pred, true, out / "pred_vs_true.png")),
        ("Calibration", plots.calibration(pred, true, out / "calibration.png")),
        ("Tier confusion (A >= 4, B [3,4), C [2,3), D < 2)", plots.tier_confusion(matrix, out / "tier_confusion.png")),
        ("Metric curves", plots.metric_curves({k: v for k, v in curves.items() if k != "drift/kl"}, out / "metric_curves.png")),
        ("Golden-set pass", plots.golden_pass(rate_curve, pos, neg, golden_threshold, out / "golden_pass.png")),
        ("Drift", plots.drift(current, reference, kl_curve, out / "drift.png", saved.get("reference_source") or "reference")),
    ]
    if champion_metrics:
        numeric = [r for r in summary[1:] if r[1] != "-" and r[2] != "-"]
        figures.append(
            (
                "Visual comparison with the champion",
                plots.comparison(
                    [r[0] for r in numeric],
                    [float(r[1]) for r in numeric],
                    [float(r[2]) for r in numeric],
                    out / "champion_comparison.png",
                ),
            )
        )
    tier_acc = float(np.trace(matrix) / max(matrix.sum(), 1))
    facts = [
        f"pairs scored: {len(pred)}",
        f"MAE: {np.abs(pred - true).mean():.4f}",
        f"tier accuracy: {tier_acc:.4f}",
        f"golden pass rate: {_fmt(golden_rate)} (gate {golden_threshold:g}; positives {pos[0]}/{sum(pos)}, "
        f"negatives {neg[0]}/{sum(neg)})",
    ]
    from aivj.export.preview import (
        golden_sheet,  # golden pairs as animated composites, when frames are cached
    )

    sheet = golden_sheet(predictions, run_dir / "golden_sheet.html")
    if sheet is not None:
        facts.append(f"golden contact sheet: {sheet.name}")
    md_path, html_path = run_dir / "report.md", run_dir / "report.html"
    _write_md(md_path, facts, summary, figures, metrics, champion_metrics is not None, run_dir)
    _write_html(html_path, facts, summary, figures, metrics, champion_metrics is not None)
    return md_path, html_path


def _write_md(path, facts, summary, figures, metrics, has_champion, run_dir) -> None:
    lines = [
        "# Quality report",
        "",
        *[f"- {f}" for f in facts],
        "",
        "## Pass rate, improvement, visual comparison" + ("" if has_champion else " (no champion yet)"),
        "",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in summary[:1]] + ["|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in summary[1:]] + ["", "## Plots", ""]
    for title, fig in figures:
        lines += [f"### {title}", "", f"![{title}]({fig.relative_to(run_dir).as_posix()})", ""]
    lines += ["## All metrics", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.6g} |" for k, v in sorted(metrics.items())]
    _atomic(path, "\n".join(lines) + "\n")


def _write_html(path, facts, summary, figures, metrics, has_champion) -> None:
    esc = html.escape
    table = lambda rows: (
        "<table>"
        + "".join(  # noqa: E731
            "<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{esc(str(c))}</{'th' if i == 0 else 'td'}>" for c in r) + "</tr>"
            for i, r in enumerate(rows)
        )
        + "</table>"
    )
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Quality report</title>",
        "<style>body{font-family:sans-serif;max-width:60em}td,th{border:1px solid #ccc;padding:2px 8px}</style>",
        "<h1>Quality report</h1><ul>" + "".join(f"<li>{esc(f)}</li>" for f in facts) + "</ul>",
        "<h2>Pass rate, improvement, visual comparison" + ("" if has_champion else " (no champion yet)") + "</h2>",
        table(summary),
        "<h2>Plots</h2>",
    ]
    for title, fig in figures:  # images inline: the file stands alone
        data = base64.b64encode(fig.read_bytes()).decode()
        parts.append(f"<h3>{esc(title)}</h3><img alt='{esc(title)}' src='data:image/png;base64,{data}'>")
    parts += ["<h2>All metrics</h2>", table([["metric", "value"]] + [[k, f"{v:.6g}"] for k, v in sorted(metrics.items())])]
    _atomic(path, "\n".join(parts) + "\n")


def _atomic(path: Path, text: str) -> None:
    from aivj.contract.atomic import write_text_atomic

    write_text_atomic(path, text)
