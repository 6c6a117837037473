"""The release quality report: a candidate version against the champion, before it ships.

``release_report(candidate, champion, out)`` writes release.md and release.html (images inline) with:
the promotion rule's verdict; the golden pass rate and gates per scoring path; every figure both
versions recorded, with its change; scoring latency of both models measured here on the same
synthetic presets (the service's cached path: encode once, score pairs); the drift, KL of the
candidate's predicted-score histogram from the champion's (their recorded reference histograms);
and the two versions' own report plots side by side where both have them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aivj.contract.schema import FEATURE_DIM
from aivj.contract.scoring_paths import SCORING_PATHS, check_path, metric_name
from aivj.registry.rules import PromotionRules, decide_promotion, lookup
from aivj.registry.store import Registry
from aivj.report import plots

COMPARED = ("golden/", "test_golden/", "test_unseen/", "test_seen/", "val/", "elite_acc", "drift/")
SKIPPED = ("loss",)  # training losses say little about a release and crowd the table


@dataclass
class Release:
    candidate: str
    champion: str
    facts: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[list[str]]]] = field(default_factory=list)  # (title, rows; first row the header)
    figures: list[tuple[str, list[Path]]] = field(default_factory=list)  # (title, images shown side by side)


def _fmt(x, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:+.4f}" if signed else f"{x:.4f}"


def compared_metrics(cand: dict, champ: dict) -> list[list[str]]:
    rows = [["metric", "candidate", "champion", "change"]]
    for path in SCORING_PATHS:
        for key in sorted(k for k in set(cand) | set(champ) if _on_path(k, path)):
            new, old = lookup(cand, (key,)), lookup(champ, (key,))
            rows.append([key, _fmt(new), _fmt(old), _fmt(new - old, True) if new is not None and old is not None else "-"])
    return rows


def _on_path(key: str, path: str) -> bool:
    bare = key.removeprefix("static/") if path == "static" else key
    if (path == "render") == key.startswith("static/"):
        return False
    return bare.startswith(COMPARED) and not any(s in bare.split("/")[-1] for s in SKIPPED)


def measure_latency(scorers: dict, presets: int = 200, pairs: int = 1000, repeats: int = 30, seed: int = 0) -> list[list[str]]:
    """Per model: encode time, and p50/p95/p99 of scoring ``pairs`` cached pairs, runs interleaved."""
    rng = np.random.default_rng(seed)
    static = rng.uniform(-1, 1, (presets, FEATURE_DIM)).astype(np.float32)
    fg, bg = rng.integers(0, presets, pairs), rng.integers(0, presets, pairs)
    encode, times = {}, {name: [] for name in scorers}
    for name, scorer in scorers.items():
        started = time.perf_counter()
        enc = scorer.encode_presets(static)
        encode[name] = (time.perf_counter() - started, enc)
    for _ in range(repeats):
        for name, scorer in scorers.items():
            started = time.perf_counter()
            scorer.score_pairs(encode[name][1], fg, bg)
            times[name].append(time.perf_counter() - started)
    rows = [["model", f"encode {presets} presets (ms)", f"score {pairs} pairs p50 (ms)", "p95 (ms)", "p99 (ms)"]]
    for name, t in times.items():
        q = np.percentile(np.asarray(t) * 1000, [50, 95, 99])
        rows.append([name, f"{encode[name][0] * 1000:.2f}", *(f"{v:.3f}" for v in q)])
    return rows


def drift_between(reg: Registry, candidate: str, champion: str, out: Path) -> tuple[str, Path | None]:
    from callbacks.histogram import kl_divergence  # the drift monitor's own measure

    new, old = reg.reference_histogram(candidate), reg.reference_histogram(champion)
    if not new or not old:
        missing = [v for v, h in ((candidate, new), (champion, old)) if not h]
        return f"drift: not measured, no reference histogram recorded for {', '.join(missing)}", None
    if len(new["counts"]) != len(old["counts"]):
        return f"drift: not measured, histograms of {len(new['counts'])} and {len(old['counts'])} bins", None
    kl = kl_divergence(new["counts"], old["counts"])
    image = plots.drift(np.asarray(new["counts"], float), np.asarray(old["counts"], float), [], out, f"champion {champion}")
    return (
        f"drift: KL(candidate || champion) = {kl:.4f} nats over {len(new['counts'])} bins ({new.get('split', 'val')} split)",
        image,
    )


def build_release(candidate: str, champion: str, out: Path, registry_dir=None, latency: bool = True) -> Release:
    reg = Registry(registry_dir)
    cand, champ = reg.metrics(candidate), reg.metrics(champion)
    plots_dir = out / "release_plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    rel = Release(candidate, champion)
    ok, why = decide_promotion(cand, champ, PromotionRules.project())
    fp_new, fp_old = reg.fingerprint(candidate), reg.fingerprint(champion)
    rel.facts += [
        f"candidate {candidate} ({reg.meta(candidate).get('code_version', '-')}), champion {champion}",
        f"promotion rule: {'promote' if ok else 'do not promote'}: {why}",
        "data: same fingerprint" if fp_new == fp_old else f"data: fingerprints differ ({fp_new} vs {fp_old})",
    ]
    gates = [["path", "candidate", "champion", "candidate passes"]]
    for path in SCORING_PATHS:
        names = tuple(metric_name(path, n) for n in PromotionRules().golden_metric)
        passes, line = check_path(cand, path)
        gates.append(
            [
                f"{path} golden pass rate",
                _fmt(lookup(cand, names)),
                _fmt(lookup(champ, names)),
                ("yes: " if passes else "no: ") + line,
            ]
        )
    rel.tables += [("Pass rate and gates", gates), ("Metric changes", compared_metrics(cand, champ))]
    numeric = [r for r in gates[1:] if "-" not in (r[1], r[2])]
    if numeric:
        bars = plots.comparison(
            [r[0] for r in numeric], [float(r[1]) for r in numeric], [float(r[2]) for r in numeric], plots_dir / "pass_rates.png"
        )
        rel.figures.append(("Golden pass rate: candidate vs champion", [bars]))
    if latency:
        from aivj.inference import load_scorer

        scorers = {
            f"candidate {candidate}": load_scorer(candidate, registry_dir),
            f"champion {champion}": load_scorer(champion, registry_dir),
        }
        rel.tables.append(("Scoring latency (this machine, static path, cached encodings)", measure_latency(scorers)))
    line, image = drift_between(reg, candidate, champion, plots_dir / "drift.png")
    rel.facts.append(line)
    if image:
        rel.figures.append(("Predicted-score distributions", [image]))
    for name in _shared_plots(reg, candidate, champion):
        rel.figures.append(
            (
                f"{name}: candidate (left), champion (right)",
                [reg.path(v) / "report" / "report_plots" / name for v in (candidate, champion)],
            )
        )
    return rel


def _shared_plots(reg: Registry, candidate: str, champion: str) -> list[str]:
    found = [{p.name for p in (reg.path(v) / "report" / "report_plots").glob("*.png")} for v in (candidate, champion)]
    return sorted(found[0] & found[1])
