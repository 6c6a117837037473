"""``aivj ab report EXP``: exposures and events of one experiment -> per-arm metrics and, at the horizon, the test.

Clients count from their exposure (the first time the player showed them the experiment); events of
clients never exposed are not counted. Each exposure's arm is checked against ``assign``: a mismatch
means the player and the service disagree, and the report refuses to compare (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aivj.ab.stats import METRICS, Comparison, client_metrics, compare, horizon, sample_ratio_p
from aivj.feedback.assign import Experiment

SRM_ALARM_P = 0.001  # below it the arms' sizes are too far from their weights to trust the comparison


@dataclass
class Report:
    experiment: Experiment
    horizon: int
    clients: dict[str, int]
    srm_p: float
    per_arm: pd.DataFrame  # arm x metric means
    comparisons: list[Comparison] = field(default_factory=list)  # empty before the horizon

    @property
    def at_horizon(self) -> bool:
        return min(self.clients.values()) >= self.horizon

    @property
    def verdict(self) -> str:
        if not self.at_horizon:
            done = min(self.clients.values())
            return f"collecting: {done}/{self.horizon} clients in the smaller arm; no test before the horizon (fixed horizon)"
        if self.srm_p < SRM_ALARM_P:
            return f"sample ratio mismatch (p={self.srm_p:.2g}): arm sizes do not follow the weights; not comparable"
        primary = self.comparisons[0]
        if primary.p_value < self.experiment.alpha:
            word = "better" if (primary.lift > 0) == (primary.metric != "skip_rate") else "worse"
            return f"{primary.metric}: treatment {word}, lift {primary.lift:+.1%} (p={primary.p_value:.3g})"
        return f"{primary.metric}: no significant difference (p={primary.p_value:.3g})"


def build_report(exp: Experiment, events: pd.DataFrame, exposures: pd.DataFrame) -> Report:
    wrong = [c for c, v in zip(exposures["client_id"], exposures["variant"]) if exp.assign(c) != v]
    if wrong:
        raise ValueError(f"{exp.name}: {len(wrong)} exposures name another arm than the assignment (first: {wrong[0]})")
    arms = list(exp.variants)
    arm_of = dict(zip(exposures["client_id"], exposures["variant"])) if len(exposures) else {}
    exposed = np.isin(events["client_id"].to_numpy().astype(str), list(arm_of)) if len(events) else []
    per_client = client_metrics(events[exposed] if len(events) else events)
    per_client["arm"] = per_client.index.map(arm_of)
    clients = {a: int((exposures["variant"] == a).sum()) if len(exposures) else 0 for a in arms}
    per_arm = per_client.groupby("arm")[list(METRICS)].mean().reindex(arms)
    need = horizon(exp.alpha, exp.power, exp.mde, exp.baseline_cv)
    report = Report(exp, need, clients, sample_ratio_p(list(clients.values()), list(exp.variants.values())), per_arm)
    if report.at_horizon:
        control = per_client[per_client["arm"] == exp.control]
        for arm in arms[1:]:
            treat = per_client[per_client["arm"] == arm]
            metrics = [exp.primary] + [m for m in METRICS if m != exp.primary]
            report.comparisons += [compare(m, control[m].to_numpy(), treat[m].to_numpy(), exp.alpha) for m in metrics]
    return report
