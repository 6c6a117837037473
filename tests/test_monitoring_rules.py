"""Alert rules and the stack's configs: generated files are current, promtool/amtool accept them, the
rules' unit tests pass, the gates are the contract's and rollback alerts reach the webhook receiver."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from aivj.contract.thresholds import GOLDEN_PASS_RATE, STATIC_GOLDEN_PASS_RATE
from aivj.monitoring.cli import main as monitoring_cli
from aivj.monitoring.rules import Budgets, alert_rules
from tests.conftest import CONF, ROOT

PROM = ROOT / "deploy" / "prometheus"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} missing: make test installs Debian's prometheus and prometheus-alertmanager")
    return found


def _run(*cmd: str) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


def test_the_files_in_deploy_are_what_the_code_generates(capsys):
    assert monitoring_cli(["generate", "--check"]) == 0, capsys.readouterr().out


def test_a_stale_file_is_named_by_check(tmp_path, capsys):
    assert monitoring_cli(["generate", "--root", str(tmp_path)]) == 0
    (tmp_path / "deploy/prometheus/aivj-rules.yml").write_text("groups: []\n")
    assert monitoring_cli(["generate", "--root", str(tmp_path), "--check"]) == 1
    assert "deploy/prometheus/aivj-rules.yml" in capsys.readouterr().out


def test_promtool_accepts_the_rules_and_config_and_the_rule_unit_tests_pass():
    promtool = _tool("promtool")
    assert "SUCCESS: 7 rules found" in _run(promtool, "check", "rules", str(PROM / "aivj-rules.yml"))
    _run(promtool, "check", "config", str(PROM / "prometheus.yml"))
    assert "SUCCESS" in _run(promtool, "test", "rules", str(PROM / "tests" / "aivj-rules.test.yml"))


def test_alertmanager_routes_rollback_alerts_to_the_webhook_and_people():
    amtool = _tool("amtool")
    config = str(PROM / "alertmanager.yml")
    _run(amtool, "check-config", config)
    routes = lambda *labels: _run(amtool, "config", "routes", "test", f"--config.file={config}", *labels).split()[0]  # noqa: E731
    assert routes("alertname=AivjGoldenPassRateLow", "action=rollback") == "aivj-rollback,people"
    assert routes("alertname=AivjDaemonStuck") == "people"


def test_the_gates_are_the_contracts_and_the_drift_limit_the_trainings():
    rules = {(r["alert"], r["labels"].get("path")): r for r in alert_rules(Budgets.project())["groups"][0]["rules"]}
    assert f"< {GOLDEN_PASS_RATE})" in rules[("AivjGoldenPassRateLow", "render")]["expr"]
    assert f"< {STATIC_GOLDEN_PASS_RATE})" in rules[("AivjGoldenPassRateLow", "static")]["expr"]
    drift = yaml.safe_load((CONF / "callbacks" / "drift_monitor.yaml").read_text())["drift_monitor"]["threshold"]
    assert f"> {drift})" in rules[("AivjDriftHigh", None)]["expr"]
    assert {name for (name, _), r in rules.items() if r["labels"].get("action") == "rollback"} == {
        "AivjGoldenPassRateLow",
        "AivjDriftHigh",
    }


def test_a_budgets_file_missing_a_figure_is_one_line_naming_it(tmp_path, monkeypatch):
    (tmp_path / "conf" / "monitoring").mkdir(parents=True)
    shutil.copytree(CONF / "callbacks", tmp_path / "conf" / "callbacks")
    (tmp_path / "conf" / "monitoring" / "default.yaml").write_text("latency_p99_seconds: 0.1\n")
    monkeypatch.setenv("AIVJ_ROOT", str(tmp_path))
    with pytest.raises(ValueError, match=r"monitoring/default.yaml: .*missing"):
        Budgets.project()
