"""Judge a candidate against the champion on the same data: golden set, fast regression set, drift, and the
registry's promotion rule, on every scoring path the champion ships.

Both models are loaded with ``aivj.inference.load_scorer`` and scored here on the daemon's dataset
(its val, test_unseen and golden splits and its fast regression tier), so the two sets of figures
compare like with like: the champion's recorded metrics.json came from the data of its own day.
Figures carry metrics.json names (``static/`` prefix for the static path, aivj.contract.scoring_paths),
so ``check_path`` and ``decide_promotion`` read them as they read a training run's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from aivj.contract.scoring_paths import metric_name
from aivj.contract.thresholds import golden_pass_rate
from aivj.home import project_root
from aivj.inference import load_scorer
from aivj.inference.tiers import pairwise_accuracy, predict, tier_split
from aivj.registry.rules import PromotionRules, decide_promotion
from callbacks.histogram import kl_divergence, score_histogram
from datamodules.pairs import PresetTable, load_splits
from datamodules.tiers import materialize_tiers, tiers_are_current

SPLITS = ("val", "test_unseen", "golden")


def path_gates(cfg: DictConfig) -> dict:
    """The daemon's per-path gates in the form of thresholds.PATH_GATES."""
    return {
        p: [(("test_unseen/pairwise_acc",), float(cfg[p].unseen_pairwise_acc)),
            (("golden/pass_rate", "test_golden/pass_rate"), float(cfg[p].golden_pass_rate))]
        for p in cfg.paths
    }  # fmt: skip


def drift_limit(cfg: DictConfig) -> float:
    if cfg.drift_max_kl is not None:
        return float(cfg.drift_max_kl)
    return float(OmegaConf.load(project_root() / "conf" / "callbacks" / "drift_monitor.yaml").drift_monitor.threshold)


def rules(cfg: DictConfig) -> PromotionRules:
    base = PromotionRules.project()
    return PromotionRules(
        golden_threshold=float(cfg.render.golden_pass_rate) if "render" in cfg.paths else base.golden_threshold,
        required_paths=tuple(cfg.paths),
        tolerance=base.tolerance if cfg.tolerance is None else float(cfg.tolerance),
        min_improvement=base.min_improvement if cfg.min_improvement is None else float(cfg.min_improvement),
        golden_metric=base.golden_metric,
        elite_metric=base.elite_metric,
        val_metric=base.val_metric,
        val_mode=base.val_mode,
    )


def load_data(data_dir: Path) -> dict:
    if not tiers_are_current(data_dir):
        materialize_tiers(data_dir)
    presets = PresetTable.load(data_dir)
    data = load_splits(data_dir, presets, list(SPLITS))
    data["fast"] = tier_split(data_dir, "fast", presets)
    return data


def measure(spec: str, data: dict, paths, registry_dir=None) -> tuple[dict, dict]:
    """(figures in metrics.json names, predictions per (path, split)) of one model on the data."""
    model = load_scorer(spec, registry_dir).model
    figures, preds = {}, {}
    for path in paths:
        for split, part in data.items():
            pred = predict(model, part, path=path)
            preds[path, split] = pred
            true = part.cols["score"]
            if split == "golden":
                figures[metric_name(path, "golden/pass_rate")] = golden_pass_rate(pred, true, part.cols["is_elite"])
            elif len(true) >= 2:
                figures[metric_name(path, f"{split}/pairwise_acc")] = pairwise_accuracy(pred, true)
            if split == "fast" and len(true):
                figures[metric_name(path, "fast/mae")] = float(np.abs(pred - true).mean())
    return {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in figures.items()}, preds


def judge(cfg: DictConfig, candidate: str, champion: str | None, data_dir: Path, registry_dir=None) -> dict:
    """Measure both models and decide; returns figures, checks and the one-line reasons."""
    data = load_data(data_dir)
    cand, cand_pred = measure(candidate, data, cfg.paths, registry_dir)
    champ, champ_pred = measure(champion, data, cfg.paths, registry_dir) if champion else (None, None)
    reasons, fast_limits = [], OmegaConf.load(str(cfg.fast_set))
    n_fast = len(data["fast"])
    drift = {}
    for path in cfg.paths:
        limits = fast_limits[path].fast
        acc, mae = cand.get(metric_name(path, "fast/pairwise_acc")), cand.get(metric_name(path, "fast/mae"))
        if n_fast >= int(cfg.fast_set_min_pairs):
            if acc is None or acc < float(limits.min_pairwise_acc):
                reasons.append(f"{path}-path fast-set pairwise accuracy {acc} < {limits.min_pairwise_acc}")
            if mae is None or mae > float(limits.max_mae):
                reasons.append(f"{path}-path fast-set MAE {mae} > {limits.max_mae}")
        if champ_pred is not None:
            drift[path] = kl_divergence(score_histogram(cand_pred[path, "val"]), score_histogram(champ_pred[path, "val"]))
            if drift[path] > drift_limit(cfg):
                reasons.append(f"{path}-path drift KL {drift[path]:.3f} > {drift_limit(cfg)} against the champion")
    promote, why = decide_promotion(cand, champ, rules(cfg), path_gates(cfg))
    if not promote:
        reasons.insert(0, why)
    return {
        "candidate": cand,
        "champion": champ,
        "champion_version": champion,
        "drift_kl": drift,
        "fast_set_pairs": n_fast,
        "fast_set_gated": n_fast >= int(cfg.fast_set_min_pairs),
        "promote": promote and not reasons,
        "rule": why,
        "reasons": reasons,
    }
