"""What the services share beyond create_app: serve() on uvicorn, the body limit on a real socket (chunked),
the logging setup that keeps the Telegram token out of the log, redact_url, the tier routes, the key
file cache, load_group and the --set style, and a detached daemon start that failed at once."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from omegaconf import OmegaConf

from aivj.configs import ConfigError, load_group
from aivj.daemon.notify import Dispatcher, Message, notifiers_from
from aivj.services.app import API_KEY_HEADER, create_app, current_client
from aivj.services.keys import KeyStore
from aivj.services.logs import QUIET_LOGGERS, redact_url, setup_logging
from aivj.services.serve import ServeError, serve
from aivj.services.settings import ServiceSettings
from tests.helpers.loopback import Recorder

TOKEN = "987654:telegram-secret-token"


def _echo_router() -> APIRouter:
    router = APIRouter()

    @router.post("/echo")
    async def echo(body: dict, client: str | None = Depends(current_client)) -> dict:
        return {"keys": len(body), "client": client}

    return router


def test_the_telegram_token_never_reaches_the_log(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("AIVJ_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("AIVJ_TELEGRAM_CHAT_ID", "42")
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    cfg = OmegaConf.merge(OmegaConf.load("conf/daemon/default.yaml").notify, {"events": ["failed"]})
    message = Message("failed", "run failed", ["step train"], "r1")
    try:
        with Recorder() as bot:
            cfg.telegram = {"enabled": True, "base_url": bot.url}
            caplog.set_level(logging.INFO)
            logging.getLogger("httpx").setLevel(logging.INFO)  # httpx's default: the URL, token and all, at INFO
            Dispatcher(notifiers_from(cfg), cfg.events, tmp_path / "outbox.jsonl").send(message)
            assert TOKEN in caplog.text  # the capture sees what httpx logs, so the next check can fail
            caplog.clear()
            setup_logging()
            results = Dispatcher(notifiers_from(cfg), cfg.events, tmp_path / "outbox.jsonl").send(message)
            assert results == [{"notifier": "telegram", "ok": True}] and len(bot.posts) == 2
        assert TOKEN not in caplog.text
        assert TOKEN not in (tmp_path / "outbox.jsonl").read_text()
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql+psycopg://aivj:pg-s3cret@db.local:5432/feedback", "postgresql+psycopg://aivj:***@db.local:5432/feedback"),
        ("redis://worker:r3dis-pass@cache:6379/1", "redis://worker:***@cache:6379/1"),
        ("redis://:only-pass@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("sqlite:////var/aivj/feedback.db", "sqlite:////var/aivj/feedback.db"),
    ],
)
def test_a_url_is_printed_without_its_password(url, shown):
    assert redact_url(url) == shown


def test_a_chunked_oversize_body_is_refused_on_a_real_socket(tmp_path):
    settings = ServiceSettings(name="limits", data_dir=tmp_path, require_api_key=False, max_body_bytes=1000)
    app = create_app(settings, [_echo_router()])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = serve(app, "127.0.0.1", port, background=True)
    try:
        url = f"http://127.0.0.1:{port}"
        chunks = (b'{"a": "' + b"x" * 400, b"x" * 400, b"x" * 400 + b'"}')  # 1,211 bytes, no Content-Length
        with httpx.Client(base_url=url, timeout=10) as http:
            refused = http.post("/echo", content=iter(chunks), headers={"Content-Type": "application/json"})
            assert refused.request.headers.get("transfer-encoding") == "chunked"
            assert "content-length" not in refused.request.headers
            assert refused.status_code == 413 and refused.json()["detail"] == "request body too large: at most 1000 bytes"
            small = http.post("/echo", content=iter([b'{"a": 1,', b' "b": 2}']), headers={"Content-Type": "application/json"})
            assert small.status_code == 200 and small.json() == {"keys": 2, "client": "anonymous"}
            declared = http.post("/echo", content=b"{" + b" " * 2000 + b"}", headers={"Content-Type": "application/json"})
            assert declared.status_code == 413
            metrics = http.get("/metrics").text
        assert 'aivj_refused_total{reason="body_size",service="limits"} 2.0' in metrics
        with pytest.raises(ServeError, match=f"could not serve on 127.0.0.1:{port}"):
            serve(create_app(settings), "127.0.0.1", port, background=True)  # the port is taken
    finally:
        server.should_exit = True


def test_tier_routes_serve_no_key_as_free_refuse_an_unknown_one_and_count_it(tmp_path):
    settings = ServiceSettings(name="tiers", data_dir=tmp_path, rate_limit_per_minute=5, free_rate_limit_per_minute=2)
    app = create_app(settings, tier_routers=[_echo_router()])
    key = KeyStore(settings.keys_file()).issue("alice")  # another KeyStore on the same file: the app's sees it
    client = TestClient(app)
    assert client.post("/echo", json={"x": 1}).json() == {"keys": 1, "client": None}
    assert client.post("/echo", json={"x": 1}, headers={API_KEY_HEADER: key}).json() == {"keys": 1, "client": "alice"}
    unknown = client.post("/echo", json={}, headers={API_KEY_HEADER: "nope"})
    assert unknown.status_code == 401 and "leave it out for the free tier" in unknown.json()["detail"]
    assert client.post("/echo", json={}).status_code == 200
    free_over = client.post("/echo", json={})
    assert free_over.status_code == 429 and free_over.json()["detail"].startswith("free tier: more than 2")
    text = client.get("/metrics").text
    assert 'aivj_refused_total{reason="api_key",service="tiers"} 1.0' in text
    assert 'aivj_refused_total{reason="rate_limit",service="tiers"} 1.0' in text


def test_the_key_file_is_read_again_only_when_it_changes(tmp_path):
    store = KeyStore(tmp_path / "api_keys.json")
    first = store.issue("a")
    assert store.client_of(first) == "a"
    reads = []
    original = store._read
    store._read = lambda: reads.append(1) or original()
    for _ in range(5):
        assert store.client_of(first) == "a"
    assert reads == []
    second = KeyStore(tmp_path / "api_keys.json").issue("b")  # replaced by another process: read once more
    assert store.client_of(second) == "b" and store.client_of(first) == "a" and reads == [1]


def test_load_group_resolves_refuses_unknown_keys_and_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AIVJ_HOME", str(tmp_path / "home"))
    path = tmp_path / "g.yaml"
    path.write_text("store: ${state_root:}/x\nnested:\n  n: 1\n")
    cfg = load_group("any", path, ["nested.n=3"])
    assert cfg.store == f"{tmp_path / 'home'}/x" and cfg.nested.n == 3
    with pytest.raises(ConfigError, match=rf"--set nested.m: no such key in {path}"):
        load_group("any", path, ["nested.m=3"])
    with pytest.raises(ConfigError, match="--set nested.n: expected key=value"):
        load_group("any", path, ["nested.n"])
    with pytest.raises(ConfigError, match=r"nope/default.yaml: no such nope config"):
        load_group("nope")
    path.write_text("a: ${no_such_resolver:}\n")
    with pytest.raises(ConfigError, match=rf"^{path}: "):
        load_group("any", path)


@pytest.mark.parametrize(
    "argv",
    [
        ["stream", "status", "--set", "nope=1"],
        ["market", "search", "--template", "x", "--set", "nope=1"],
        ["feedback", "count", "--set", "nope=1"],
        ["daemon", "status", "--set", "nope=1"],
        ["ab", "report", "preference_head", "--set", "nope=1"],
    ],
)
def test_every_config_command_takes_set_after_the_subcommand(argv, tmp_path):
    out = subprocess.run([sys.executable, "-m", "aivj.cli", *argv], capture_output=True, text=True, cwd=".",
                         env={"PATH": "/usr/bin:/bin", "AIVJ_HOME": str(tmp_path)}, timeout=120)  # fmt: skip
    err = out.stderr.strip()
    assert out.returncode == 2 and "\n" not in err and "--set nope: no such key in " in err, err


def test_a_detached_start_says_why_its_daemon_did_not_start(tmp_path, monkeypatch, capsys):
    from aivj.daemon.cli import main as daemon_main
    from aivj.daemon.journal import daemon_home
    from aivj.daemon.service import daemon_lock, lock_holder

    monkeypatch.setenv("AIVJ_HOME", str(tmp_path / "home"))
    home = daemon_home()
    with daemon_lock(home):
        assert daemon_main(["start", "--detach", "--set", f"roots=[{tmp_path}]"]) == 2
    assert "already running" in capsys.readouterr().err
    try:
        with socket.socket() as taken:  # the status page's port is taken: the child exits at once
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code = daemon_main(["start", "--detach", "--set", f"roots=[{tmp_path}]", "--set", f"status.port={port}"])
    finally:
        if lock_holder(home):  # a daemon this test started and that stayed up: stop it
            os.kill(lock_holder(home), signal.SIGTERM)
    out, err = capsys.readouterr()
    assert (
        code == 2 and "started" not in out and f"exited at once (code 2): aivj daemon: could not serve on 127.0.0.1:{port}" in err
    )
