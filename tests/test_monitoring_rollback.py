"""The rollback webhook: bearer token, acts only on the current champion, rolls back once, records why."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from aivj.monitoring.rollback import REASON_PREFIX, previous_good, rollback_router
from aivj.registry import Registry
from aivj.services.app import create_app
from aivj.services.settings import ServiceSettings
from tests.test_registry_store import good_metrics, make_run

TOKEN = "s3cret-token"


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """Three versions (stand-in checkpoints: the webhook never loads one); v0 then v1 were champion."""
    from aivj.registry import register_run

    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    reg_dir = tmp_path / "registry"
    versions = []
    for i in range(3):
        run, ckpt, data = make_run(tmp_path, f"r{i}", {})
        versions.append(register_run(run, ckpt, None, good_metrics(), data, auto_promote=False, registry_dir=reg_dir)[0])
    reg = Registry(reg_dir)
    reg.set_champion(versions[0], "first")
    reg.set_champion(versions[1], "second")
    return reg, versions


def _client(tmp_path, reg, token=TOKEN):
    router = rollback_router(reg.root, token=token, log_path=tmp_path / "webhook.jsonl")
    app = create_app(ServiceSettings(name="daemon", data_dir=tmp_path / "svc"), open_routers=[router])
    return TestClient(app)


def _note(version, status="firing", alertname="AivjGoldenPassRateLow", action="rollback"):
    labels = {"alertname": alertname, "action": action, "path": "render"}
    if version is not None:
        labels["version"] = version
    alert = {"status": status, "labels": labels, "annotations": {"summary": "render pass 0.5 < 0.98"}, "startsAt": "x"}
    return {"version": "4", "status": status, "receiver": "rollback", "alerts": [alert]}


def test_no_token_no_rollback(tmp_path, registry):
    reg, versions = registry
    client = _client(tmp_path, reg)
    assert client.post("/alerts/rollback", json=_note(versions[1])).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/alerts/rollback", json=_note(versions[1]), headers=wrong).status_code == 401
    unset = _client(tmp_path, reg, token="")
    answer = unset.post("/alerts/rollback", json=_note(versions[1]), headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 503 and "AIVJ_ROLLBACK_TOKEN" in answer.json()["detail"]
    assert reg.champion() == versions[1]


def test_a_firing_alert_on_the_champion_rolls_back_once_and_records_why(tmp_path, registry):
    reg, versions = registry
    client = _client(tmp_path, reg)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = client.post("/alerts/rollback", json=_note(versions[1]), headers=auth).json()
    assert answer["rolled_back"] and (answer["from"], answer["to"]) == (versions[1], versions[0])
    assert reg.champion() == versions[0]
    last = reg.history()[-1]
    assert last["champion"] == versions[0] and last["previous"] == versions[1]
    assert last["reason"] == REASON_PREFIX + "AivjGoldenPassRateLow (render pass 0.5 < 0.98)"
    # Alertmanager repeats the notification: it names the old champion, so nothing moves.
    again = client.post("/alerts/rollback", json=_note(versions[1]), headers=auth).json()
    assert not again["rolled_back"] and reg.champion() == versions[0]
    assert 'aivj_rollbacks_total{alertname="AivjGoldenPassRateLow"} 1.0' in client.get("/metrics").text
    log = [json.loads(line) for line in (tmp_path / "webhook.jsonl").read_text().splitlines()]
    assert [row["rolled_back"] for row in log] == [True, False]


@pytest.mark.parametrize(
    "note",
    [
        _note(None),  # no version label: cannot tell whether it is about the champion
        _note("v1_zzzz"),  # about another version
        _note("CHAMPION", status="resolved"),
        _note("CHAMPION", action="page"),  # not a rollback alert
    ],
)
def test_alerts_that_are_not_about_the_serving_champion_change_nothing(tmp_path, registry, note):
    reg, versions = registry
    for alert in note["alerts"]:
        if alert["labels"].get("version") == "CHAMPION":
            alert["labels"]["version"] = versions[1]
    answer = _client(tmp_path, reg).post("/alerts/rollback", json=note, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and not answer.json()["rolled_back"] and reg.champion() == versions[1]


def test_a_promotion_between_the_webhooks_read_and_write_stands(tmp_path, registry, monkeypatch):
    """The webhook read v1 as champion; v2 is promoted while it decides: the switch refuses, v2 stays."""
    from aivj.monitoring import rollback

    reg, versions = registry
    decide = rollback.previous_good

    def promotion_lands_meanwhile(r):
        target = decide(r)
        Registry(reg.root).set_champion(versions[2], "promoted by hand meanwhile")
        return target

    monkeypatch.setattr(rollback, "previous_good", promotion_lands_meanwhile)
    answer = _client(tmp_path, reg).post(
        "/alerts/rollback", json=_note(versions[1]), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert not answer.json()["rolled_back"] and "moved to" in answer.json()["reason"]
    assert reg.champion() == versions[2] and reg.history()[-1]["reason"] == "promoted by hand meanwhile"


def test_the_target_skips_versions_an_alert_rolled_away_from(tmp_path, registry):
    reg, versions = registry
    reg.set_champion(versions[2], "third")  # history: v0, v1, v2
    reg.set_champion(versions[1], REASON_PREFIX + "drift")  # v2 was rolled away from
    reg.set_champion(versions[2], "promoted again by hand")
    assert previous_good(reg) == versions[1]
    reg.set_champion(versions[1], REASON_PREFIX + "drift")
    assert previous_good(reg) == versions[0]  # v2 is bad, v1 is current


def test_nothing_to_roll_back_to_is_answered_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    from aivj.registry import register_run

    run, ckpt, data = make_run(tmp_path, "only", {})
    reg_dir = tmp_path / "registry"
    only = register_run(run, ckpt, None, good_metrics(), data, registry_dir=reg_dir)[0]
    reg = Registry(reg_dir)
    answer = _client(tmp_path, reg).post("/alerts/rollback", json=_note(only), headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and not answer.json()["rolled_back"]
    assert "no earlier sound champion" in answer.json()["reason"] and reg.champion() == only
