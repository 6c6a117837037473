"""The services' foundation: health and metrics open, routes behind hashed API keys and a rate limit."""

from __future__ import annotations

import json

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel

from aivj.services.app import API_KEY_HEADER, create_app
from aivj.services.keys import KeyStore, key_hash
from aivj.services.ratelimit import RateLimiter
from aivj.services.settings import ServiceSettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _echo() -> APIRouter:
    router = APIRouter()

    @router.get("/echo")
    def echo(word: str) -> dict:
        return {"word": word}

    return router


@pytest.fixture
def service(tmp_path):
    settings = ServiceSettings(name="test", data_dir=tmp_path / "svc", rate_limit_per_minute=2)
    clock = FakeClock()
    app = create_app(settings, [_echo()], clock=clock)
    key = app.state.keys.issue("alice")
    return TestClient(app), key, clock, settings


def test_health_and_metrics_need_no_key(service):
    client, _, _, _ = service
    assert client.get("/health").json() == {"status": "ok", "service": "test", "version": "0.1.0"}
    client.get("/echo", params={"word": "x"})  # refused: no key
    text = client.get("/metrics").text
    assert 'aivj_requests_total{route="/health",service="test",status="200"} 1.0' in text
    assert 'aivj_refused_total{reason="api_key",service="test"} 1.0' in text


def test_routes_need_a_key_and_the_file_holds_only_its_hash(service):
    client, key, _, settings = service
    assert client.get("/echo", params={"word": "hi"}).status_code == 401
    assert client.get("/echo", params={"word": "hi"}, headers={API_KEY_HEADER: "wrong"}).status_code == 401
    ok = client.get("/echo", params={"word": "hi"}, headers={API_KEY_HEADER: key})
    assert ok.status_code == 200 and ok.json() == {"word": "hi"}
    stored = settings.keys_file().read_text()
    assert key not in stored and json.loads(stored) == {key_hash(key): "alice"}


def test_the_rate_limit_refuses_then_refills_with_time(service):
    client, key, clock, _ = service
    codes = [client.get("/echo", params={"word": "a"}, headers={API_KEY_HEADER: key}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    clock.now += 30  # half a minute refills one of two tokens
    assert client.get("/echo", params={"word": "a"}, headers={API_KEY_HEADER: key}).status_code == 200
    assert client.get("/echo", params={"word": "a"}, headers={API_KEY_HEADER: key}).status_code == 429


def test_limits_are_per_client():
    clock = FakeClock()
    limiter = RateLimiter(1, clock)
    assert [limiter.allow("a"), limiter.allow("a"), limiter.allow("b")] == [True, False, True]


def test_a_garbage_key_file_is_one_line_naming_it(tmp_path):
    path = tmp_path / "api_keys.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="api_keys.json: not a"):
        KeyStore(path).client_of("anything")


def test_service_data_lives_under_the_state_root(tmp_path, monkeypatch):
    monkeypatch.setenv("AIVJ_HOME", str(tmp_path / "home"))
    assert ServiceSettings(name="scoring").keys_file() == tmp_path / "home" / "services" / "scoring" / "api_keys.json"


class Reading(BaseModel):
    value: int


def test_an_invalid_body_with_nan_is_a_422_naming_the_field_not_a_500(tmp_path):
    router = APIRouter()

    @router.post("/reading")
    def reading(body: Reading) -> dict:
        return {"value": body.value}

    app = create_app(ServiceSettings(name="test", data_dir=tmp_path, require_api_key=False), open_routers=[router])
    answer = TestClient(app, raise_server_exceptions=False).post(
        "/reading", content=b'{"value": NaN}', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "value"]
