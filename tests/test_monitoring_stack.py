"""The whole loop on real servers: Prometheus scrapes `aivj serve`, a bad champion's pass rate fires the
generated rule, Alertmanager posts it with the bearer token to the rollback webhook, the registry
rolls back, and the service swaps back to the good champion."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest

from aivj.monitoring import stack
from aivj.monitoring.rollback import REASON_PREFIX, rollback_router
from aivj.monitoring.rules import Budgets, rules_yaml
from aivj.registry import Registry
from aivj.services.settings import ServiceSettings
from aivj.serving.app import create_scoring_app
from tests.helpers.tiny_module import trust_test_helpers
from tests.helpers.tiny_versions import PASSING, register_tiny
from tests.monitoring_servers import alertmanager_server, prometheus_server, uvicorn_app

TOKEN = "integration-token"


def _query(prometheus: str, expr: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())["data"]["result"]


def _until(what: str, check, timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


@pytest.mark.slow
def test_a_pass_rate_drop_fires_the_alert_and_the_webhook_rolls_the_registry_back(tmp_path, monkeypatch):
    monkeypatch.setenv("AIVJ_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    trust_test_helpers(monkeypatch)
    reg_dir = tmp_path / "home" / "registry"
    good = register_tiny(reg_dir, tmp_path, PASSING, "good", seed=0)
    bad = register_tiny(reg_dir, tmp_path, {**PASSING, "golden/pass_rate": 0.5}, "bad", seed=1)
    reg = Registry(reg_dir)
    reg.set_champion(good, "first champion")
    webhook_log = tmp_path / "webhook.jsonl"

    app = create_scoring_app(
        ServiceSettings(name="scoring", data_dir=tmp_path / "svc"),
        reg_dir,
        poll_seconds=0.2,
        open_routers=[rollback_router(reg_dir, token=TOKEN, log_path=webhook_log)],
    )
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    with uvicorn_app(app) as (serve_url, serve_port):
        am_config = stack.alertmanager_config(
            f"{serve_url}/alerts/rollback", str(token_file), group_wait="1s", group_interval="1s", repeat_interval="1h"
        )
        with alertmanager_server(stack.as_yaml(am_config)) as alertmanager:
            prom_config = stack.prometheus_config(
                {"aivj-serve": [f"127.0.0.1:{serve_port}"]},
                alertmanagers=(alertmanager.removeprefix("http://"),),
                rule_files=("rules.yml",),
                scrape_interval="1s",
                evaluation_interval="1s",
            )
            with prometheus_server(stack.as_yaml(prom_config), rules_yaml(Budgets.project().quick("0s"))) as prometheus:
                scraped = _until("the good champion scraped", lambda: _query(prometheus, 'aivj_golden_pass_rate{path="render"}'))
                assert float(scraped[0]["value"][1]) == pytest.approx(0.99)
                assert _query(prometheus, "ALERTS") == []

                reg.set_champion(bad, "a bad promotion")  # the drop: the service swaps to a 0.5 pass rate
                _until("the registry rolled back", lambda: reg.champion() == good)
                _until("the service swapped back", lambda: app.state.holder.get().version == good)

    last = reg.history()[-1]
    assert (last["champion"], last["previous"]) == (good, bad)
    assert last["reason"].startswith(REASON_PREFIX + "AivjGoldenPassRateLow (render-path golden pass rate 0.5000 < 0.98")
    calls = [json.loads(line) for line in webhook_log.read_text().splitlines()]
    assert [(c["from"], c["to"]) for c in calls if c["rolled_back"]] == [(bad, good)]  # once, however often it was told
