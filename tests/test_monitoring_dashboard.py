"""Every dashboard panel and alert rule queries metric names an exporter really publishes.

Each name is scraped from a real exporter's /metrics: ``aivj serve`` after a score and a top-k, the
streaming reweighter's app, and the daemon's status app with its metrics and the rollback webhook
it mounts (after one rollback, so the webhook's counter exists).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from aivj.registry import Registry
from aivj.services.app import API_KEY_HEADER
from aivj.services.settings import ServiceSettings
from aivj.serving.app import create_scoring_app
from tests.conftest import ROOT
from tests.helpers.tiny_module import trust_test_helpers
from tests.helpers.tiny_versions import PASSING, register_tiny
from tests.test_export_pairs_quality import make_pack

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "aivj.json"
RULES = ROOT / "deploy" / "prometheus" / "aivj-rules.yml"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",), "unknown": ("",)}


def published(text: str) -> set[str]:
    """Series names a /metrics page exposes, declared ones without samples yet included."""
    out = set()
    for family in text_string_to_metric_families(text):
        out |= {s.name for s in family.samples}
        out |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return out


@pytest.fixture(scope="module")
def exporters(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exporters")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIVJ_SHIPPED_DIR", "")
        trust_test_helpers(mp)
        reg_dir = tmp / "registry"
        Registry(reg_dir).set_champion(register_tiny(reg_dir, tmp, PASSING, "champion"), "test")
        make_pack(tmp, n=4, missing=(), broken=())
        app = create_scoring_app(
            ServiceSettings(name="scoring", data_dir=tmp / "svc"), reg_dir, packs_root=tmp, poll_seconds=None
        )
        client, key = TestClient(app), {API_KEY_HEADER: app.state.keys.issue("t")}
        client.post("/score", json={"presets": [{"features": [0.0] * 64}], "pairs": [[0, 0]]}, headers=key)
        client.get("/packs/coupled_test_pack/top", headers=key)
        serve = published(client.get("/metrics").text)
    from aivj.stream.app import stream_app
    from aivj.stream.keys import Keys

    stream, _ = stream_app(None, Keys(), ServiceSettings(name="stream", data_dir=tmp / "stream"))
    return {"serve": serve, "stream": published(TestClient(stream).get("/metrics").text), "daemon": _daemon(tmp, reg_dir)}


def _daemon(tmp, reg_dir) -> set[str]:
    from aivj.daemon.metrics import DaemonMetrics
    from aivj.daemon.status import create_status_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIVJ_SHIPPED_DIR", "")
        mp.setenv("AIVJ_ROLLBACK_TOKEN", "t0ken")
        mp.setenv("AIVJ_HOME", str(tmp / "home"))
        app = create_status_app(tmp / "home" / "daemon", reg_dir, ServiceSettings(name="daemon", data_dir=tmp / "daemon"))
        DaemonMetrics(app.state.metrics)
        client, reg = TestClient(app), Registry(reg_dir)
        bad = register_tiny(reg_dir, tmp, PASSING, "bad", seed=1)
        reg.set_champion(bad, "test")
        alert = {"status": "firing", "labels": {"alertname": "AivjDriftHigh", "action": "rollback", "version": bad}}
        answer = client.post("/alerts/rollback", json={"alerts": [alert]}, headers={"Authorization": "Bearer t0ken"})
        assert answer.json()["rolled_back"], answer.text
        return published(client.get("/metrics").text)


def _names(expr: str) -> set[str]:
    return set(re.findall(r"\baivj_[a-z0-9_]+\b", expr))


def test_the_exporters_publish_what_the_contract_gives_each(exporters):
    assert {
        "aivj_inference_latency_seconds_bucket",
        "aivj_golden_pass_rate",
        "aivj_drift_kl",
        "aivj_champion_info",
    } <= exporters["serve"]
    assert {
        "aivj_stream_events_total",
        "aivj_stream_lag_seconds_bucket",
        "aivj_stream_pending_events",
        "aivj_stream_last_applied_timestamp_seconds",
    } <= exporters["stream"]
    assert {
        "aivj_daemon_state",
        "aivj_daemon_runs_total",
        "aivj_daemon_heartbeat_timestamp_seconds",
        "aivj_training_progress_ratio",
        "aivj_fast_set_metric",
        "aivj_rollbacks_total",
    } <= exporters["daemon"]


def test_every_panel_queries_published_names(exporters):
    known = set().union(*exporters.values())
    panels = [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] != "row"]
    assert len(panels) >= 15
    for panel in panels:
        exprs = [t["expr"] for t in panel["targets"]]
        used = set().union(*map(_names, exprs))
        assert used, f"panel {panel['title']!r} queries no aivj metric"
        assert used <= known, f"panel {panel['title']!r}: {sorted(used - known)} published by no exporter"
        assert panel["datasource"]["uid"] == "aivj-prometheus"


def test_every_alert_rule_queries_published_names(exporters):
    known = set().union(*exporters.values())
    for rule in yaml.safe_load(RULES.read_text())["groups"][0]["rules"]:
        assert _names(rule["expr"]) and _names(rule["expr"]) <= known, rule["alert"]


def test_the_dashboard_shows_what_the_issue_asks_and_the_provisioned_datasource():
    exprs = " ".join(t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p.get("targets", []))
    for q in ("0.95", "0.99"):
        assert f"histogram_quantile({q}, sum by (endpoint, le) (rate(aivj_inference_latency_seconds_bucket" in exprs
    assert "aivj_golden_pass_rate" in exprs and "aivj_drift_kl" in exprs
    provisioning = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert provisioning["datasources"][0]["uid"] == "aivj-prometheus"
