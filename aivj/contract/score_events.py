"""The event format of ``refinery_v2_*.log``: one JSON object per line (docs/streaming.md).

``{"id": "...", "time": 1767225600.125, "pack": "P", "pair": 17, "score": 3.82, "rank": 4, "source": "refine score"}``
plus optional ``fg``/``bg`` preset ids. ``time`` is when the line was written (Unix seconds): the lag
metric and the time decay count from it. ``pair`` is the pairs table's pair id within ``pack``; ``score`` is
0-5 (aivj/contract/schema.py), ``rank`` 1 = best within the pack. A line that is not such an object is
quarantined with one of the ``reason``s below, never published.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

SCORE_MIN, SCORE_MAX = 0.0, 5.0  # the pairs table's score range
MAX_ID_CHARS = 128
MAX_LINE_BYTES = 64 * 1024  # a longer line is quarantined unread (the tailer never holds more)
REQUIRED = ("id", "time", "pack", "pair", "score", "rank", "source")
OPTIONAL = ("fg", "bg")


@dataclass(frozen=True)
class Event:
    id: str
    time: float
    pack: str
    pair: int
    score: float
    rank: int
    source: str
    fg: str | None = None
    bg: str | None = None

    def line(self) -> str:
        """The canonical line (compact JSON, no newline): what the log holds and the stream carries."""
        d = {"id": self.id, "time": self.time, "pack": self.pack, "pair": self.pair, "score": self.score, "rank": self.rank}
        d["source"] = self.source
        if self.fg is not None:
            d["fg"] = self.fg
        if self.bg is not None:
            d["bg"] = self.bg
        return json.dumps(d, separators=(",", ":"))  # dataclasses.asdict deep-copies: 5x slower


class BadEvent(ValueError):
    """A line that is not an event; ``reason`` is short and stable (quarantine files group by it)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadEvent("bad field", f"{name} must be an integer, got {value!r}"[:200])
    return value


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadEvent("bad field", f"{name} must be a finite number, got {value!r}"[:200])
    return float(value)


def _text(value, name: str, max_chars: int = 512) -> str:
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise BadEvent("bad field", f"{name} must be a non-empty string of at most {max_chars} characters")
    return value


def parse(line: bytes | str) -> Event:
    """One log line (without its newline) -> ``Event``, or ``BadEvent`` saying why not."""
    if isinstance(line, bytes):
        if len(line) > MAX_LINE_BYTES:
            raise BadEvent("line too long", f"{len(line)} bytes > {MAX_LINE_BYTES}")
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadEvent("not utf-8", str(exc)) from None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadEvent("not json", str(exc)) from None
    if not isinstance(obj, dict):
        raise BadEvent("not an object", type(obj).__name__)
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise BadEvent("missing field", ", ".join(missing))
    unknown = sorted(set(obj) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise BadEvent("unknown field", ", ".join(unknown)[:200])
    score = _number(obj["score"], "score")
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise BadEvent("bad field", f"score {score} outside {SCORE_MIN}-{SCORE_MAX}")
    pair, rank = _int(obj["pair"], "pair"), _int(obj["rank"], "rank")
    if pair < 0 or rank < 1:
        raise BadEvent("bad field", f"pair must be >= 0 and rank >= 1, got pair {pair}, rank {rank}")
    time = _number(obj["time"], "time")
    if time <= 0:
        raise BadEvent("bad field", f"time {time} is not a Unix time")
    return Event(
        id=_text(obj["id"], "id", MAX_ID_CHARS),
        time=time,
        pack=_text(obj["pack"], "pack"),
        pair=pair,
        score=score,
        rank=rank,
        source=_text(obj["source"], "source"),
        fg=None if obj.get("fg") is None else _text(obj["fg"], "fg"),
        bg=None if obj.get("bg") is None else _text(obj["bg"], "bg"),
    )
