"""The promotion rule from the plan, with the metric names it reads.

A candidate becomes champion when its golden pass rate >= ``golden_threshold`` and either there is
no champion, or ``elite_acc_new > elite_acc_champion * elite_margin`` and its validation metric is
not worse than the champion's. (A model failing the golden gate never becomes champion by rule.) Each metric is looked up under the first
of its names present in metrics.json (validation names first, then test names).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PromotionRules:
    golden_threshold: float = 0.98
    elite_margin: float = 1.01
    golden_metric: tuple[str, ...] = ("golden/pass_rate", "test_golden/pass_rate")
    # The elite set is the golden set: its accuracy is its pass rate unless elite_acc was logged.
    elite_metric: tuple[str, ...] = ("elite_acc", "golden/pass_rate", "test_golden/pass_rate")
    val_metric: tuple[str, ...] = ("val/pairwise_acc",)
    val_mode: str = "max"

    @classmethod
    def from_config(cls, cfg) -> "PromotionRules":
        if cfg is None:
            return cls()
        get = cfg.get if hasattr(cfg, "get") else lambda k, d=None: getattr(cfg, k, d)
        names = lambda v, d: tuple([v] if isinstance(v, str) else v) if v else d  # noqa: E731
        base = cls()
        return cls(golden_threshold=float(get("golden_threshold", base.golden_threshold)),
                   elite_margin=float(get("elite_margin", base.elite_margin)),
                   golden_metric=names(get("golden_metric", None), base.golden_metric),
                   elite_metric=names(get("elite_metric", None), base.elite_metric),
                   val_metric=names(get("val_metric", None), base.val_metric),
                   val_mode=str(get("val_mode", base.val_mode)))


def lookup(metrics: dict, names: tuple[str, ...]) -> float | None:
    for name in names:
        value = metrics.get(name)
        if value is not None and math.isfinite(float(value)):
            return float(value)
    return None


def decide_promotion(candidate: dict, champion: dict | None, rules: PromotionRules = PromotionRules()) -> tuple[bool, str]:
    """(promote?, the reason in one line). The golden gate applies even when there is no champion."""
    golden = lookup(candidate, rules.golden_metric)
    if golden is None:
        return False, f"candidate has no golden pass rate ({', '.join(rules.golden_metric)})"
    if golden < rules.golden_threshold:
        return False, f"golden pass rate {golden:.4f} < {rules.golden_threshold}"
    if champion is None:
        return True, f"no champion yet; golden pass rate {golden:.4f} >= {rules.golden_threshold}"
    elite_new, elite_old = lookup(candidate, rules.elite_metric), lookup(champion, rules.elite_metric)
    if elite_new is None or elite_old is None:
        return False, f"elite accuracy missing ({', '.join(rules.elite_metric)})"
    if not elite_new > elite_old * rules.elite_margin:
        return False, f"elite acc {elite_new:.4f} not > champion {elite_old:.4f} * {rules.elite_margin}"
    val_new, val_old = lookup(candidate, rules.val_metric), lookup(champion, rules.val_metric)
    if val_new is None or val_old is None:
        return False, f"validation metric missing ({', '.join(rules.val_metric)})"
    worse = val_new < val_old if rules.val_mode == "max" else val_new > val_old
    if worse:
        return False, f"{rules.val_metric[0]} {val_new:.4f} worse than champion {val_old:.4f}"
    return True, (f"golden {golden:.4f} >= {rules.golden_threshold}, elite {elite_new:.4f} > "
                  f"{elite_old:.4f} * {rules.elite_margin}, {rules.val_metric[0]} {val_new:.4f} vs {val_old:.4f}")
