"""The promotion rule, with the metric names it reads.

A candidate becomes champion when

1. its golden pass rate >= ``golden_threshold`` (the render path's, as before), and
2. it passes every scoring path in ``required_paths`` (conf/registry: render and static) (aivj.contract.scoring_paths.check_path: that path's
   test_unseen pairwise accuracy and golden pass rate reach their gates), and
3. there is no champion, or the champion does not pass a required path (e.g. it has no static
   figures), or: on every required path no gated figure (pairwise, golden) nor the validation metric
   is worse than the champion's by more than ``tolerance``, and the validation metric improves by more
   than ``min_improvement`` on at least one required path.

Rule 3 replaces the old ``elite_new > elite_old * 1.01``, which no candidate can meet once the champion
passes >= 0.991 of the golden set (1.01 * 0.991 > 1). Each metric is looked up under the first of its
names present in metrics.json (validation names first, then test names).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aivj.configs import register_resolvers
from aivj.contract.scoring_paths import check_path, metric_name
from aivj.contract.thresholds import GOLDEN_PASS_RATE
from aivj.home import project_root


@dataclass(frozen=True)
class PromotionRules:
    golden_threshold: float = GOLDEN_PASS_RATE
    # Empty: no path gate beyond golden_threshold, and the comparison reads the render path's names
    # (what a bare PromotionRules() did before scoring paths; conf/registry sets [render, static]).
    required_paths: tuple[str, ...] = ()
    tolerance: float = 0.005  # how much worse a gated figure may be than the champion's
    min_improvement: float = 0.0  # the validation metric must beat the champion's by more than this
    golden_metric: tuple[str, ...] = ("golden/pass_rate", "test_golden/pass_rate")
    # Compared like the gated figures when present (the elite set is the golden set otherwise).
    elite_metric: tuple[str, ...] = ("elite_acc",)
    val_metric: tuple[str, ...] = ("val/pairwise_acc",)
    val_mode: str = "max"

    @classmethod
    def project(cls) -> PromotionRules:
        """The rule train.py applies (conf/registry/default.yaml), for promotions made by hand."""
        from omegaconf import OmegaConf

        path = project_root() / "conf" / "registry" / "default.yaml"
        register_resolvers()
        return cls.from_config(OmegaConf.load(path)) if path.exists() else cls()

    @classmethod
    def from_config(cls, cfg) -> PromotionRules:
        if cfg is None:
            return cls()
        get = cfg.get if hasattr(cfg, "get") else lambda k, d=None: getattr(cfg, k, d)
        names = lambda v, d: tuple([v] if isinstance(v, str) else v) if v else d  # noqa: E731
        base = cls()
        return cls(
            golden_threshold=float(get("golden_threshold", base.golden_threshold)),
            required_paths=names(get("required_paths", None), base.required_paths),
            tolerance=float(get("tolerance", base.tolerance)),
            min_improvement=float(get("min_improvement", base.min_improvement)),
            golden_metric=names(get("golden_metric", None), base.golden_metric),
            elite_metric=names(get("elite_metric", None), base.elite_metric),
            val_metric=names(get("val_metric", None), base.val_metric),
            val_mode=str(get("val_mode", base.val_mode)),
        )


def lookup(metrics: dict, names: tuple[str, ...]) -> float | None:
    for name in names:
        value = metrics.get(name)
        if value is not None and math.isfinite(float(value)):
            return float(value)
    return None


def _compared_figures(rules: PromotionRules, path: str) -> list[tuple[tuple[str, ...], str]]:
    """(names, mode) of every figure compared with the champion on ``path``."""
    from aivj.contract.scoring_paths import PATH_GATES

    figures = [(tuple(metric_name(path, n) for n in names), "max") for names, _ in PATH_GATES[path]]
    figures.append((tuple(metric_name(path, n) for n in rules.val_metric), rules.val_mode))
    if path == "render":
        figures.append((rules.elite_metric, "max"))
    return figures


def _against_champion(candidate: dict, champion: dict, rules: PromotionRules) -> tuple[bool, str]:
    gains = []
    for path in rules.required_paths or ("render",):
        for names, mode in _compared_figures(rules, path):
            new, old = lookup(candidate, names), lookup(champion, names)
            if new is None or old is None:
                continue  # a required path's gated figures are present (check_path); others are optional
            better = new - old if mode == "max" else old - new
            if better < -rules.tolerance:
                return False, f"{names[0]} {new:.4f} worse than champion {old:.4f} by more than {rules.tolerance}"
        val_names = tuple(metric_name(path, n) for n in rules.val_metric)
        new, old = lookup(candidate, val_names), lookup(champion, val_names)
        if new is None or old is None:
            return False, f"validation metric {val_names[0]} missing"
        gains.append((new - old if rules.val_mode == "max" else old - new, val_names[0], new, old))
    gain, name, new, old = max(gains)
    if gain <= rules.min_improvement:
        return False, (
            f"no required path improves {rules.val_metric[0]} by more than {rules.min_improvement} "
            f"(best: {name} {new:.4f} vs champion {old:.4f})"
        )
    return True, f"{name} {new:.4f} vs champion {old:.4f}, no gated figure worse by more than {rules.tolerance}"


def decide_promotion(
    candidate: dict, champion: dict | None, rules: PromotionRules = PromotionRules(), gates: dict | None = None
) -> tuple[bool, str]:
    """(promote?, the reason in one line). The gates apply even when there is no champion.

    ``gates``: per-path gates in the form of ``thresholds.PATH_GATES`` (default: those); the daemon passes its configured ones.
    """
    golden = lookup(candidate, rules.golden_metric)
    if golden is None:
        return False, f"candidate has no golden pass rate ({', '.join(rules.golden_metric)})"
    if golden < rules.golden_threshold:
        return False, f"golden pass rate {golden:.4f} < {rules.golden_threshold}"
    for path in rules.required_paths:
        ok, line = check_path(candidate, path, gates)
        if not ok:
            return False, f"candidate fails required path: {line}"
    passes = "; ".join(check_path(candidate, p, gates)[1] for p in rules.required_paths)
    if champion is None:
        return True, f"no champion yet; {passes}"
    for path in rules.required_paths:
        ok, line = check_path(champion, path, gates)
        if not ok:
            return True, f"champion fails required path ({line}); {passes}"
    promote, reason = _against_champion(candidate, champion, rules)
    return promote, reason
