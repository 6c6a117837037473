"""The daemon's notifiers against local servers on loopback: a JSON webhook, a stand-in Telegram bot API
(token and chat id from the environment), SMTP (aiosmtpd); a channel that is down is recorded, not raised."""

from __future__ import annotations

import json
import socket

import pytest
from aiosmtpd.controller import Controller
from omegaconf import OmegaConf

from aivj.daemon.notify import Dispatcher, Message, notifiers_from
from tests.helpers.loopback import Recorder

MESSAGE = Message("rejected", "candidate rejected, champion kept: v1_abcd", ["golden pass rate 0.41 < 0.6"], "r1", {"x": 1})


def _cfg(**notify):
    base = OmegaConf.load("conf/daemon/default.yaml").notify
    return OmegaConf.merge(base, notify)


class Inbox:
    def __init__(self) -> None:
        self.mails = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.mails.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:  # Controller checks its port by connecting: it needs a real one, not 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_every_channel_gets_the_same_message(tmp_path, monkeypatch, smtp):
    inbox, port = smtp
    monkeypatch.setenv("AIVJ_TELEGRAM_TOKEN", "123:secret")
    monkeypatch.setenv("AIVJ_TELEGRAM_CHAT_ID", "42")
    with Recorder() as hook, Recorder() as bot:
        cfg = _cfg(webhook={"url": hook.url + "/h"}, telegram={"enabled": True, "base_url": bot.url},
                   email={"host": "127.0.0.1", "port": port, "to": ["vj@example.org"]})  # fmt: skip
        results = Dispatcher(notifiers_from(cfg), cfg.events, tmp_path / "outbox.jsonl").send(MESSAGE)
        assert [r["ok"] for r in results] == [True, True, True], results
        assert hook.posts[0][1]["event"] == "rejected" and hook.posts[0][1]["lines"] == MESSAGE.lines
        path, body = bot.posts[0]
        assert path == "/bot123:secret/sendMessage" and body == {"chat_id": "42", "text": MESSAGE.text}
    sender, to, mail = inbox.mails[0]
    assert to == ["vj@example.org"] and "Subject: [aivj daemon] candidate rejected" in mail and "golden pass rate 0.41" in mail
    outbox = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert outbox[0]["event"] == "rejected" and len(outbox[0]["sent"]) == 3


def test_a_channel_down_is_recorded_and_secrets_stay_out_of_config(tmp_path, monkeypatch):
    with Recorder(status=500) as hook:
        cfg = _cfg(webhook={"url": hook.url})
        results = Dispatcher(notifiers_from(cfg), cfg.events, tmp_path / "o.jsonl").send(MESSAGE)
    assert results[0]["ok"] is False and "500" in results[0]["error"]
    assert Dispatcher(notifiers_from(cfg), ["promoted"], tmp_path / "o.jsonl").send(MESSAGE) == []  # not a configured event
    monkeypatch.delenv("AIVJ_TELEGRAM_TOKEN", raising=False)
    with pytest.raises(ValueError, match="AIVJ_TELEGRAM_TOKEN"):
        notifiers_from(_cfg(telegram={"enabled": True}))
    with Recorder(answer={"ok": False}) as bot:
        monkeypatch.setenv("AIVJ_TELEGRAM_TOKEN", "123:secret")
        monkeypatch.setenv("AIVJ_TELEGRAM_CHAT_ID", "42")
        cfg = _cfg(telegram={"enabled": True, "base_url": bot.url})
        (result,) = Dispatcher(notifiers_from(cfg), cfg.events, tmp_path / "o.jsonl").send(MESSAGE)
    assert result["ok"] is False and "secret" not in result["error"]  # the token is part of the URL: never echoed
