"""One logging setup for the services, and URLs made safe to print.

httpx logs every request at INFO with its full URL, and the Telegram bot API puts the bot token
in the URL: at INFO the token would land in daemon.log. ``setup_logging`` keeps httpx and httpcore
at WARNING. ``redact_url`` hides the password of a database or Redis URL before it is printed or
raised.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

QUIET_LOGGERS = ("httpx", "httpcore")  # they log request URLs, which may hold a token
MASK = "***"


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def redact_url(url: object) -> str:
    """``url`` with its password replaced by ***: SQLAlchemy's own rendering for SQL URLs, the same for the rest."""
    text = str(url)
    if "@" not in text:
        return text
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a SQLAlchemy URL (redis://, http://) or no SQLAlchemy: split it ourselves
        pass
    try:
        parts = urlsplit(text)
    except ValueError:
        return MASK
    if parts.password is None:
        return text
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
