"""Pluggable notifiers sharing one message: a JSON webhook, the Telegram bot API, SMTP email.

Credentials come from the environment only (``AIVJ_TELEGRAM_TOKEN``, ``AIVJ_TELEGRAM_CHAT_ID``,
``AIVJ_SMTP_USER``, ``AIVJ_SMTP_PASSWORD``). A notifier that fails is recorded (``outbox.jsonl``, the
run report) and never fails the run: the alert is the report, the channel is best effort.
"""

from __future__ import annotations

import json
import smtplib
import time
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path

import httpx
from omegaconf import DictConfig

from aivj.daemon.config import secret

TIMEOUT = 10.0


@dataclass
class Message:
    event: str  # promoted | rejected | rolled_back | failed | paused | recovered | skipped
    title: str
    lines: list[str] = field(default_factory=list)
    run: str | None = None
    data: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join([f"[aivj daemon] {self.title}", *self.lines])

    def as_dict(self) -> dict:
        return {**asdict(self), "text": self.text, "time": round(time.time(), 3)}


class WebhookNotifier:
    name = "webhook"

    def __init__(self, url: str) -> None:
        self.url = url

    def send(self, message: Message) -> None:
        httpx.post(self.url, json=message.as_dict(), timeout=TIMEOUT).raise_for_status()


class TelegramNotifier:
    name = "telegram"

    def __init__(self, base_url: str, token: str, chat_id: str) -> None:
        self.base_url, self.token, self.chat_id = base_url.rstrip("/"), token, chat_id

    def send(self, message: Message) -> None:
        url = f"{self.base_url}/bot{self.token}/sendMessage"
        response = httpx.post(url, json={"chat_id": self.chat_id, "text": message.text}, timeout=TIMEOUT)
        if response.status_code != 200 or not response.json().get("ok"):
            raise RuntimeError(f"Telegram sendMessage answered {response.status_code}")  # never echo the URL: it holds the token


class EmailNotifier:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, to: list[str], starttls: bool, user=None, password=None) -> None:
        self.host, self.port, self.sender, self.to = host, int(port), sender, list(to)
        self.starttls, self.user, self.password = starttls, user, password

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = f"[aivj daemon] {message.title}", self.sender, ", ".join(self.to)
        mail.set_content(message.text + "\n\n" + json.dumps(message.data, indent=2, default=str))
        with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(mail)


def notifiers_from(cfg: DictConfig) -> list:
    out = []
    if cfg.webhook.url:
        out.append(WebhookNotifier(str(cfg.webhook.url)))
    if cfg.telegram.enabled:
        token, chat = secret("AIVJ_TELEGRAM_TOKEN"), secret("AIVJ_TELEGRAM_CHAT_ID")
        if not token or not chat:
            raise ValueError("notify.telegram.enabled: set AIVJ_TELEGRAM_TOKEN and AIVJ_TELEGRAM_CHAT_ID in the environment")
        out.append(TelegramNotifier(str(cfg.telegram.base_url), token, chat))
    if cfg.email.host:
        if not cfg.email.to:
            raise ValueError("notify.email.host is set but notify.email.to lists nobody")
        out.append(EmailNotifier(str(cfg.email.host), cfg.email.port, str(cfg.email.sender), list(cfg.email.to),
                                 bool(cfg.email.starttls), secret("AIVJ_SMTP_USER"), secret("AIVJ_SMTP_PASSWORD")))  # fmt: skip
    return out


class Dispatcher:
    """Sends the configured events to every notifier; appends each attempt to ``outbox.jsonl``."""

    def __init__(self, notifiers: list, events, outbox: Path) -> None:
        self.notifiers, self.events, self.outbox = notifiers, set(events), Path(outbox)

    def send(self, message: Message) -> list[dict]:
        if message.event not in self.events:
            return []
        results = []
        for notifier in self.notifiers:
            try:
                notifier.send(message)
                results.append({"notifier": notifier.name, "ok": True})
            except Exception as exc:  # noqa: BLE001 - a channel down must not fail the run
                results.append({"notifier": notifier.name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]})
        self.outbox.parent.mkdir(parents=True, exist_ok=True)
        with open(self.outbox, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**message.as_dict(), "sent": results}, default=str) + "\n")
        return results
