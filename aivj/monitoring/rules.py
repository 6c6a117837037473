"""Prometheus alert rules, generated: the quality gates from the contract, the budgets from conf/monitoring.

Rollback alerts (golden pass rate below its path's gate, drift above the training limit) carry
``action="rollback"`` and are joined with ``aivj_champion_info`` on the scrape target, so each alert
names the champion ``version`` it is about (the webhook acts only on the current champion). The
others page a person. ``aivj monitoring generate`` writes deploy/prometheus/aivj-rules.yml; the
integration test writes the same rules with short ``for`` durations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from aivj.contract import metric_names as names
from aivj.contract.scoring_paths import SCORING_PATHS
from aivj.contract.thresholds import PATH_GATES
from aivj.home import project_root

JOIN = f" * on(job, instance) group_left(version) {names.CHAMPION_INFO}"


@dataclass(frozen=True)
class Budgets:
    """The figures the rules compare with; ``project()`` reads them, none has a default here."""

    drift_kl: float
    latency_p99_seconds: float
    stream_lag_p99_seconds: float
    stream_pending_events: float
    daemon_stuck_seconds: float
    rate_window: str
    durations: dict  # quality, latency, stream, daemon -> a Prometheus duration

    @classmethod
    def project(cls) -> Budgets:
        """conf/monitoring/default.yaml, with the drift limit of conf/callbacks/drift_monitor.yaml."""
        root = project_root() / "conf"
        path = root / "monitoring" / "default.yaml"
        conf = _yaml(path)
        drift = _yaml(root / "callbacks" / "drift_monitor.yaml")["drift_monitor"]["threshold"]
        conf["durations"] = conf.pop("for", None)
        try:
            return cls(drift_kl=float(drift), **conf)
        except TypeError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def quick(self, duration: str = "0s") -> Budgets:
        """The same rules firing after ``duration`` (the integration test's few seconds)."""
        return replace(self, durations={k: duration for k in self.durations}, rate_window="30s")


def _yaml(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: unreadable ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not a mapping")
    return doc


def golden_gate(path: str) -> float:
    """The golden pass-rate gate of a scoring path (the PATH_GATES entry named pass_rate)."""
    return next(minimum for keys, minimum in PATH_GATES[path] if keys[0].endswith("pass_rate"))


def _alert(name, expr, duration, severity, summary, action=None, **labels) -> dict:
    labels = {"severity": severity, **labels, **({"action": action} if action else {})}
    return {"alert": name, "expr": expr, "for": duration, "labels": labels, "annotations": {"summary": summary}}


def alert_rules(b: Budgets) -> dict:
    d, w = b.durations, b.rate_window
    quantile = "histogram_quantile(0.99, sum by ({by}le) (rate({metric}_bucket[{w}])))"
    rules = [
        _alert(
            "AivjGoldenPassRateLow",
            f'({names.GOLDEN_PASS_RATE}{{path="{path}"}} < {golden_gate(path)}){JOIN}',
            d["quality"],
            "critical",
            f'{path}-path golden pass rate {{{{ $value | printf "%.4f" }}}} < {golden_gate(path)} '
            "(champion {{ $labels.version }})",
            action="rollback",
            path=path,  # two rules of one name need a label apart (promtool)
        )
        for path in SCORING_PATHS
    ]
    rules += [
        _alert(
            "AivjDriftHigh",
            f"({names.DRIFT_KL} > {b.drift_kl}){JOIN}",
            d["quality"],
            "critical",
            f'{{{{ $labels.path }}}}-path score drift KL {{{{ $value | printf "%.3f" }}}} > {b.drift_kl} '
            "(champion {{ $labels.version }})",
            action="rollback",
        ),
        _alert(
            "AivjInferenceLatencyP99High",
            quantile.format(by="job, instance, endpoint, ", metric=names.INFERENCE_LATENCY, w=w) + f" > {b.latency_p99_seconds}",
            d["latency"],
            "warning",
            f"p99 scoring latency of {{{{ $labels.endpoint }}}} {{{{ $value | humanizeDuration }}}} > {b.latency_p99_seconds}s",
        ),
        _alert(
            "AivjStreamLagHigh",
            quantile.format(by="job, instance, ", metric=names.STREAM_LAG, w=w) + f" > {b.stream_lag_p99_seconds}",
            d["stream"],
            "warning",
            f"p99 reweighter lag {{{{ $value | humanizeDuration }}}} > {b.stream_lag_p99_seconds}s",
        ),
        _alert(
            "AivjStreamBacklog",
            f"{names.STREAM_PENDING} > {b.stream_pending_events:g}",
            d["stream"],
            "warning",
            f"{{{{ $value }}}} events pending in the reweighter's consumer group (> {b.stream_pending_events:g})",
        ),
        _alert(
            "AivjDaemonStuck",
            f"time() - {names.DAEMON_HEARTBEAT} > {b.daemon_stuck_seconds:g}",
            d["daemon"],
            "critical",
            f"no daemon scheduler tick for {{{{ $value | humanizeDuration }}}} (> {b.daemon_stuck_seconds:g}s)",
        ),
    ]
    return {"groups": [{"name": "aivj", "rules": rules}]}


HEADER = "# Generated by `aivj monitoring generate` from aivj/contract/thresholds.py and conf/; do not edit.\n"


def rules_yaml(b: Budgets) -> str:
    return HEADER + yaml.safe_dump(alert_rules(b), sort_keys=False, width=200)
