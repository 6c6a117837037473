"""The feedback API and its store: validation, idempotency by event id, exposures, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from aivj.feedback.api import MAX_BODY_BYTES, create_feedback_app
from aivj.feedback.assign import Experiment, load_experiment
from aivj.feedback.events import Dwell, Shown
from aivj.feedback.store import ConflictError, FeedbackStore
from aivj.services.settings import ServiceSettings
from tests.servers import postgres_server

EXP = Experiment("exp1", {"control": 1.0, "head": 1.0})
NOW = datetime.now(UTC).isoformat()


def event(event_id: str, type_: str = "shown", client: str = "viewer1", **extra) -> dict:
    base = dict(event_id=event_id, client_id=client, session_id="s1", time=NOW, fg="ab" * 8, bg="cd" * 8, type=type_)
    return base | extra


@pytest.fixture
def api(tmp_path):
    app = create_feedback_app(ServiceSettings(name="feedback", data_dir=tmp_path), experiments={EXP.name: EXP})
    client = TestClient(app)
    client.headers["X-API-Key"] = app.state.keys.issue("webapp")
    return client, app.state.store


def test_a_resent_batch_is_stored_once_and_a_reused_id_refuses_the_batch(api):
    client, store = api
    batch = {"events": [event("e1"), event("e2", "dwell", dwell_s=12.0), event("e3", "rate", rating=5)]}
    assert client.post("/events", json=batch).json() == {"received": 3, "stored": 3, "duplicates": 0}
    assert client.post("/events", json=batch).json() == {"received": 3, "stored": 0, "duplicates": 3}
    reused = {"events": [event("e4"), event("e2", "dwell", dwell_s=99.0)]}
    r = client.post("/events", json=reused)
    assert r.status_code == 409 and "e2" in r.json()["detail"]
    rows = {r["event_id"]: r for r in store.read_events()}
    assert sorted(rows) == ["e1", "e2", "e3"] and rows["e2"]["dwell_s"] == 12.0 and rows["e3"]["rating"] == 5


def test_a_racing_request_with_the_same_new_id_and_other_content_is_a_conflict(api, monkeypatch):
    """Another request stores e2 with other content after this one looked and before it inserts: 409."""
    client, store = api
    other, insert = FeedbackStore(store.url), store._insert

    def racing_insert(table):
        other.add_events([Dwell(**event("e2", "dwell", dwell_s=99.0))], "other")
        monkeypatch.setattr(store, "_insert", insert)
        return insert(table)

    monkeypatch.setattr(store, "_insert", racing_insert)
    r = client.post("/events", json={"events": [event("e1"), event("e2", "dwell", dwell_s=12.0)]})
    assert r.status_code == 409 and "e2" in r.json()["detail"]
    assert [(e["event_id"], e["dwell_s"]) for e in store.read_events()] == [("e2", 99.0)]  # nothing of this batch
    other.engine.dispose()


@pytest.mark.parametrize(
    "bad",
    [
        event("x", "dwell", dwell_s=0),
        event("x", "dwell", dwell_s=6 * 3600 + 1),
        event("x", "rate", rating=6),
        event("x", "rate", rating="4"),
        event("x", "skip"),
        event("x", "hover"),
        event("x" * 65),
        event("x", fg="not-hex"),
        event("x", time="2026-01-01T00:00:00"),  # no time zone
        event("x", time=(datetime.now(UTC) + timedelta(days=3)).isoformat()),
        event("x", experiment="exp1"),  # no variant
        event("x", experiment="nope", variant="a"),
        event("x", extra_field=1),
    ],
)
def test_invalid_events_are_refused_and_nothing_is_stored(api, bad):
    client, store = api
    assert client.post("/events", json={"events": [event("ok"), bad]}).status_code == 422
    assert store.count() == 0


def test_non_finite_numbers_oversized_batches_and_bodies_are_refused(api):
    client, store = api
    nan = '{"events": [{"event_id": "n", "client_id": "c", "session_id": "s", "time": "%s", "fg": "abababab", "bg": "abababab", "type": "dwell", "dwell_s": NaN}]}'
    assert client.post("/events", content=nan % NOW, headers={"Content-Type": "application/json"}).status_code == 422
    assert client.post("/events", json={"events": [event(f"e{i}") for i in range(501)]}).status_code == 422
    big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    assert client.post("/events", content=big, headers={"Content-Type": "application/json"}).status_code == 413
    assert store.count() == 0


def test_an_event_must_name_its_clients_assigned_arm(api):
    client, store = api
    arm = EXP.assign("viewer1")
    other = next(a for a in EXP.variants if a != arm)
    assert client.post("/events", json={"events": [event("w", experiment="exp1", variant=other)]}).status_code == 422
    assert client.post("/events", json={"events": [event("r", experiment="exp1", variant=arm)]}).status_code == 200
    assert [r["variant"] for r in store.read_events(experiment="exp1")] == [arm]


def test_exposures_are_logged_once_with_the_hashed_arm(api):
    client, store = api
    first = client.post("/experiments/exp1/exposures", json={"client_id": "viewer9", "time": NOW})
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    again = client.post("/experiments/exp1/exposures", json={"client_id": "viewer9", "time": later})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["variant"] == EXP.assign("viewer9")
    assert len(store.read_exposures("exp1")) == 1
    assert client.post("/experiments/nope/exposures", json={"client_id": "v", "time": NOW}).status_code == 404


def test_routes_need_a_key_and_events_record_which_key_sent_them(api):
    client, store = api
    key = client.headers.pop("X-API-Key")
    assert client.post("/events", json={"events": [event("k")]}).status_code == 401
    assert client.post("/events", json={"events": [event("k")]}, headers={"X-API-Key": key}).status_code == 200
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT source FROM feedback_events").scalar_one() == "webapp"


def test_assignment_is_deterministic_and_follows_the_weights(tmp_path):
    path = tmp_path / "skewed.yaml"
    path.write_text("variants: {a: 1, b: 3}\n")
    exp = load_experiment(path)
    arms = [exp.assign(f"c{i}") for i in range(4000)]
    assert arms == [exp.assign(f"c{i}") for i in range(4000)]
    share = arms.count("b") / len(arms)
    assert abs(share - 0.75) < 3 * (0.75 * 0.25 / 4000) ** 0.5 + 1e-9
    renamed = Experiment("other", exp.variants)
    assert sum(renamed.assign(f"c{i}") != a for i, a in enumerate(arms)) > 1000  # the name salts the hash
    (tmp_path / "bad.yaml").write_text("variants: {a: 1, b: -1}\n")
    with pytest.raises(ValueError, match="bad.yaml: every variant weight"):
        load_experiment(tmp_path / "bad.yaml")


@pytest.mark.slow
def test_the_store_on_postgresql_is_idempotent_too():
    with postgres_server() as url:
        store = FeedbackStore(url)
        evs = [Shown(**event("p1")), Dwell(**event("p2", "dwell", dwell_s=3.5))]
        assert store.add_events(evs, "pg") == (2, 0)
        assert store.add_events(evs, "pg") == (0, 2)
        with pytest.raises(ConflictError):
            store.add_events([Dwell(**event("p2", "dwell", dwell_s=4.0))], "pg")
        assert [r["dwell_s"] for r in store.read_events()] == [None, 3.5]
        store.engine.dispose()
