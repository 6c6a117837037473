"""A/B metrics per client and the fixed-horizon test between two arms.

The unit is the client: events of one viewer are not independent, so every metric is first reduced to
one number per client (``client_metrics``) and the arms are compared on those numbers with Welch's t
test. ``mean_dwell`` (seconds a pair stays on screen, dwell events only), ``skip_rate`` (skips per
pair shown) and ``return_rate`` (the retention proxy: 1 when the client came back for a second
session, else 0).

Peeking guard: a fixed horizon. ``horizon`` sizes each arm before the experiment starts, from the
experiment's alpha, power, minimal detectable lift and the past spread of the primary metric
(n = 2 (z_{1-alpha/2} + z_power)^2 cv^2 / mde^2 per arm); the report gives no p-value, interval or
verdict until both arms reach it, and the test then runs once. Looking early and stopping at the first
p < alpha would inflate the false-positive rate (docs/feedback.md measures by how much).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

METRICS = ("mean_dwell", "skip_rate", "return_rate")


def client_metrics(events: pd.DataFrame) -> pd.DataFrame:
    """One row per client_id: shown, mean_dwell (NaN without dwell events), skip_rate, return_rate, sessions.

    numpy rather than a pandas groupby: the simulations call it thousands of times."""
    cols = ["shown", "mean_dwell", "skip_rate", "return_rate", "sessions"]
    if events.empty:
        return pd.DataFrame(columns=cols, dtype=float)
    ids, owner = np.unique(events["client_id"].to_numpy().astype(str), return_inverse=True)
    kind = events["type"].to_numpy().astype(str)
    n = len(ids)
    shown = np.bincount(owner, weights=kind == "shown", minlength=n)
    skips = np.bincount(owner, weights=kind == "skip", minlength=n)
    is_dwell = kind == "dwell"
    dwell_sum = np.bincount(owner[is_dwell], weights=events["dwell_s"].to_numpy(dtype=float)[is_dwell], minlength=n)
    dwell_n = np.bincount(owner[is_dwell], minlength=n)
    _, session = np.unique(events["session_id"].to_numpy().astype(str), return_inverse=True)
    pairs = np.unique(owner.astype(np.int64) * (session.max() + 1) + session)
    sessions = np.bincount(pairs // (session.max() + 1), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "shown": shown,
            "mean_dwell": np.where(dwell_n > 0, dwell_sum / dwell_n, np.nan),
            "skip_rate": np.where(shown > 0, skips / shown, np.nan),
            "return_rate": (sessions >= 2).astype(float),
            "sessions": sessions,
        }
    return pd.DataFrame(out, index=pd.Index(ids, name="client_id"))[cols]


def horizon(alpha: float, power: float, mde: float, cv: float) -> int:
    """Clients per arm for a two-sided Welch test to detect a relative lift ``mde`` with ``power``."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(2 * z * z * cv * cv / (mde * mde))


@dataclass(frozen=True)
class Comparison:
    metric: str
    n_control: int
    n_treatment: int
    control: float
    treatment: float
    lift: float  # treatment / control - 1
    lift_ci: tuple[float, float]
    diff_ci: tuple[float, float]
    p_value: float


def compare(metric: str, control: np.ndarray, treatment: np.ndarray, alpha: float) -> Comparison:
    """Welch's t test on per-client values; the lift's interval by the delta method."""
    c, t = (np.asarray(a, dtype=np.float64) for a in (control, treatment))
    c, t = c[~np.isnan(c)], t[~np.isnan(t)]
    if len(c) < 2 or len(t) < 2:
        raise ValueError(f"{metric}: need at least two clients per arm, got {len(c)} and {len(t)}")
    mc, mt = c.mean(), t.mean()
    vc, vt = c.var(ddof=1) / len(c), t.var(ddof=1) / len(t)
    se = math.sqrt(vc + vt)
    dof = (vc + vt) ** 2 / (vc**2 / (len(c) - 1) + vt**2 / (len(t) - 1)) if se > 0 else len(c) + len(t) - 2
    q = stats.t.ppf(1 - alpha / 2, dof)
    if se > 0:
        p = float(2 * stats.t.sf(abs(mt - mc) / se, dof))
    else:  # every client of both arms has the same value
        p = 1.0 if mt == mc else 0.0
    lift = mt / mc - 1 if mc else float("nan")
    # delta method for mt / mc: var ~ vt / mc^2 + mt^2 vc / mc^4
    lift_se = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4) if mc else float("nan")
    diff = mt - mc
    return Comparison(
        metric, len(c), len(t), mc, mt, lift, (lift - q * lift_se, lift + q * lift_se), (diff - q * se, diff + q * se), p
    )


def sample_ratio_p(counts: list[int], weights: list[float]) -> float:
    """Chi-square p of the arms' client counts against their weights (a tiny p: assignment or logging is broken)."""
    total, wsum = sum(counts), sum(weights)
    if total == 0:
        return 1.0
    return float(stats.chisquare(counts, [total * w / wsum for w in weights]).pvalue)
