"""The Grafana dashboard as code (grafanalib, in the ``monitoring`` extra): quality, scoring, daemon, stream.

Quality: the golden pass rate and the KL drift per scoring path against the gates the alert rules use,
the champion version, rollbacks. Scoring: latency p50/p95/p99 per endpoint, request rate. Daemon:
state, last decision, runs, failures, time since the last tick, training progress. Stream: events by
outcome, lag p99, backlog, time since the last applied event. ``aivj monitoring generate`` writes it
to deploy/grafana/dashboards/aivj.json for the file provisioning in deploy/grafana/provisioning/.
"""

from __future__ import annotations

import json

from aivj.contract import metric_names as names
from aivj.contract.scoring_paths import SCORING_PATHS
from aivj.monitoring.rules import Budgets, golden_gate

DATASOURCE = {"type": "prometheus", "uid": "aivj-prometheus"}  # provisioning/datasources/prometheus.yml
UID = "aivj-coupling-lab"


def _quantiles(metric: str, by: str, window: str) -> list[tuple[str, str]]:
    return [
        (f"histogram_quantile({q}, sum by ({by}le) (rate({metric}_bucket[{window}])))", f"p{round(q * 100)} {{{{{by[:-2]}}}}}")
        for q in (0.5, 0.95, 0.99)
    ]


def panels(b: Budgets) -> list[tuple[str, list[dict]]]:
    """(row title, [panel spec]); a spec: title, kind, targets [(expr, legend)], unit, thresholds, width."""
    w = "$__rate_interval"
    gate_lines = [(golden_gate(p), f"{p} gate") for p in SCORING_PATHS]
    return [
        (
            "Quality",
            [
                {
                    "title": "Golden pass rate",
                    "targets": [(names.GOLDEN_PASS_RATE, "{{path}} ({{job}})")],
                    "unit": "percentunit",
                    "lines": gate_lines,
                },
                {
                    "title": "Score drift (KL vs reference)",
                    "targets": [(names.DRIFT_KL, "{{path}} ({{job}})")],
                    "lines": [(b.drift_kl, "rollback")],
                },
                {"title": "Champion", "kind": "stat", "targets": [(names.CHAMPION_INFO, "{{version}}")], "text": "name"},
                {"title": "Fast-set metrics", "targets": [(names.FAST_SET_METRIC, "{{path}} {{metric}}")]},
                {"title": "Rollbacks", "kind": "stat", "targets": [(f"sum(increase({names.ROLLBACKS}_total[1d]))", "last day")]},
            ],
        ),
        (
            "Scoring service",
            [
                {
                    "title": "Inference latency",
                    "targets": _quantiles(names.INFERENCE_LATENCY, "endpoint, ", w),
                    "unit": "s",
                    "lines": [(b.latency_p99_seconds, "p99 budget")],
                },
                {
                    "title": "Scoring requests",
                    "targets": [(f"sum by (endpoint) (rate({names.INFERENCE_LATENCY}_count[{w}]))", "{{endpoint}}")],
                    "unit": "reqps",
                },
            ],
        ),
        (
            "Daemon",
            [
                {
                    "title": "State",
                    "kind": "timeline",
                    "targets": [(f"{names.DAEMON_STATE} == 1", f"{{{{{names.DAEMON_STATE}}}}}")],
                },
                {
                    "title": "Last decision",
                    "kind": "timeline",
                    "targets": [(f"{names.DAEMON_LAST_DECISION} == 1", f"{{{{{names.DAEMON_LAST_DECISION}}}}}")],
                },
                {
                    "title": "Runs by decision",
                    "targets": [(f"sum by (decision) (increase({names.DAEMON_RUNS}_total[1h]))", "{{decision}}")],
                },
                {"title": "Consecutive failures", "kind": "stat", "targets": [(names.DAEMON_FAILURES, "")]},
                {
                    "title": "Since last tick",
                    "kind": "stat",
                    "targets": [(f"time() - {names.DAEMON_HEARTBEAT}", "")],
                    "unit": "s",
                    "lines": [(b.daemon_stuck_seconds, "stuck")],
                },
                {"title": "Since last run", "kind": "stat", "targets": [(f"time() - {names.DAEMON_LAST_RUN}", "")], "unit": "s"},
                {"title": "Training", "targets": [(names.TRAINING_PROGRESS, "progress"), (names.TRAINING_EPOCH, "epoch")]},
            ],
        ),
        (
            "Streaming reweighter",
            [
                {
                    "title": "Events",
                    "targets": [(f"sum by (outcome) (rate({names.STREAM_EVENTS}_total[{w}]))", "{{outcome}}")],
                    "unit": "ops",
                },
                {
                    "title": "Lag",
                    "targets": _quantiles(names.STREAM_LAG, "job, ", w),
                    "unit": "s",
                    "lines": [(b.stream_lag_p99_seconds, "p99 budget")],
                },
                {
                    "title": "Pending events",
                    "targets": [(names.STREAM_PENDING, "{{instance}}")],
                    "lines": [(b.stream_pending_events, "backlog")],
                },
                {
                    "title": "Since last applied event",
                    "kind": "stat",
                    "targets": [(f"time() - {names.STREAM_LAST_APPLIED}", "")],
                    "unit": "s",
                },
            ],
        ),
    ]


def _panel(spec: dict, pos: dict):
    from grafanalib.core import GridPos, Stat, StateTimeline, Target, TimeSeries

    targets = [
        Target(expr=e, legendFormat=leg, refId=chr(65 + i), datasource=DATASOURCE) for i, (e, leg) in enumerate(spec["targets"])
    ]
    steps = [{"color": "green", "value": None}] + [{"color": "red", "value": v} for v, _ in sorted(spec.get("lines", []))]
    common = {"title": spec["title"], "dataSource": DATASOURCE, "targets": targets, "gridPos": GridPos(**pos)}
    kind = spec.get("kind", "timeseries")
    if kind == "stat":
        return Stat(
            **common,
            format=spec.get("unit", "none"),
            textMode=spec.get("text", "value"),
            thresholds=steps,
            reduceCalc="lastNotNull",
        )
    if kind == "timeline":
        return StateTimeline(**common, showValue="never")
    return TimeSeries(
        **common, unit=spec.get("unit", ""), thresholds=steps, thresholdsStyleMode="line" if spec.get("lines") else "off"
    )


def dashboard(b: Budgets):
    from grafanalib.core import Dashboard, GridPos, RowPanel, Time

    out, y = [], 0
    for row, specs in panels(b):
        out.append(RowPanel(title=row, gridPos=GridPos(h=1, w=24, x=0, y=y)))
        y += 1
        for i, spec in enumerate(specs):
            out.append(_panel(spec, {"h": 8, "w": 8, "x": 8 * (i % 3), "y": y + 8 * (i // 3)}))
        y += 8 * ((len(specs) + 2) // 3)
    return Dashboard(
        title="AIVJ Coupling Lab", uid=UID, tags=["aivj"], time=Time("now-6h", "now"), refresh="30s", panels=out
    ).auto_panel_ids()


def dashboard_json(b: Budgets) -> str:
    try:
        from grafanalib._gen import DashboardEncoder
    except ImportError:
        raise RuntimeError("the dashboard needs grafanalib: pip install -e '.[monitoring]'") from None
    return json.dumps(dashboard(b).to_json_data(), cls=DashboardEncoder, indent=2, sort_keys=True) + "\n"
