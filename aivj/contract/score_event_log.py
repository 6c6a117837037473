"""Writes score/rank events to ``refinery_v2_<UTC date>.log`` (JSON lines) for the tailer to pick up.

A log is appended to, never rewritten: each batch goes out as whole lines in one ``write`` on a file
opened with O_APPEND, so the tailer never reads half a line that will not be completed. One file a day
keeps files small; rotation by a log rotator is fine too (the tailer follows renames and truncation).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from aivj.contract.score_events import Event

PREFIX = "refinery_v2_"


class EventLogWriter:
    def __init__(self, folder: str | Path, source: str, clock=time.time) -> None:
        self.folder, self.source, self.clock = Path(folder), source, clock
        self.written = 0

    def path(self, now: float | None = None) -> Path:
        return self.folder / f"{PREFIX}{time.strftime('%Y%m%d', time.gmtime(self.clock() if now is None else now))}.log"

    def event(self, pack: str, pair: int, score: float, rank: int, fg: str | None = None, bg: str | None = None) -> Event:
        return Event(uuid.uuid4().hex, self.clock(), pack, int(pair), float(score), int(rank), self.source, fg, bg)

    def write(self, events: Iterable[Event]) -> int:
        data = "".join(e.line() + "\n" for e in events).encode()
        if not data:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:  # a regular file takes it in one write; the loop is for the rare short write
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        n = data.count(b"\n")
        self.written += n
        return n


def write_score_events(folder: str | Path, source: str, pack: str, pair, score, rank, fg=None, bg=None) -> Path:
    """One event per scored pair (the refinery's scorer): its new score and rank within the pack."""
    writer = EventLogWriter(folder, source)
    fg = fg if fg is not None else [None] * len(pair)
    bg = bg if bg is not None else [None] * len(pair)
    writer.write(writer.event(pack, p, s, r, f, b) for p, s, r, f, b in zip(pair, score, rank, fg, bg))
    return writer.path()
