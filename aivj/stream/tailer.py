"""Follows every ``refinery_v2_*.log`` in a folder and publishes each event to the Redis Stream.

Files are known by (device, inode), so a renamed file keeps its offset: a rotated-away file (now named
``....log.1``) is read to its end before it is forgotten, then the new file from its start; a file that
shrank below its offset was truncated (copytruncate) and is read again from 0. Only whole lines are read;
a line still being written waits for its newline. Offsets (and a hash of each file's first bytes, so a
reused inode is not mistaken for the old file) are saved atomically after each batch is in Redis, so a
restart neither skips nor repeats a line; if the tailer dies between XADD and that save, the batch goes
out again and the workers count it as duplicate (idempotent by event id).

Lines that are not events go to ``quarantine.jsonl`` beside the state with file, offset and reason;
``lines == published + quarantined`` in the saved counts, and ``quarantined`` equals the lines in
``quarantine.jsonl``: the state records how long that file was at each save, and a tailer started
after a crash between an append and the save cuts the unsaved tail off before redoing its batch.
A ``tailer.json`` that does not parse is a one-line error naming it (move it aside to start over).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from pathlib import Path

from aivj.contract import score_events as ev
from aivj.contract.atomic import write_json_atomic
from aivj.stream.keys import Keys

READ_CHUNK = 1 << 20
HEAD_BYTES = 64


class TailerStateError(ValueError):
    pass


def read_state(path: Path) -> dict:
    """The saved offsets and counts ({} when there are none); a one-line error naming a damaged file."""
    if not path.exists():
        return {}
    try:
        saved = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(saved, dict) or not isinstance(saved.get("files", {}), dict):
            raise ValueError("not a tailer state object")
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise TailerStateError(
            f"{path}: corrupt tailer state ({str(exc).splitlines()[0][:100]}); move it aside to re-read every log from its start"
        ) from None
    return saved


def _head(fd: int, offset: int) -> str:
    return hashlib.sha1(os.pread(fd, min(HEAD_BYTES, offset), 0)).hexdigest()


class Tailer:
    def __init__(
        self, redis, keys: Keys, folder: Path, pattern: str, state_dir: Path, maxlen: int, batch_lines: int = 2000, metrics=None
    ):
        self.redis, self.keys, self.folder, self.pattern = redis, keys, Path(folder), pattern
        self.state_path, self.quarantine_path = Path(state_dir) / "tailer.json", Path(state_dir) / "quarantine.jsonl"
        self.maxlen, self.batch_lines, self.metrics = maxlen, batch_lines, metrics
        saved = read_state(self.state_path)
        self.files: dict[str, dict] = saved.get("files", {})  # "dev:ino" -> {path, offset, head}
        self.counts: dict[str, int] = {"lines": 0, "published": 0, "quarantined": 0, "truncations": 0, **saved.get("counts", {})}
        self.fds: dict[str, int] = {}
        self.quarantine_bytes = self._drop_unsaved_quarantine(saved.get("quarantine_bytes"))
        if not saved:
            self._save()  # the quarantine length a first batch killed before its save is cut back to

    def _drop_unsaved_quarantine(self, saved_bytes: int | None) -> int:
        """Cut quarantine.jsonl back to its length at the last save: the rest belongs to a batch redone now."""
        size = self.quarantine_path.stat().st_size if self.quarantine_path.exists() else 0
        if saved_bytes is None or size <= saved_bytes:  # an older state file, or a quarantine moved away
            return size
        os.truncate(self.quarantine_path, saved_bytes)
        return saved_bytes

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()

    def _scan(self) -> tuple[dict[str, Path], dict[str, Path]]:
        """(live files matching the pattern, known files that no longer match: rotated away), by dev:ino."""
        live, away = {}, {}
        if not self.folder.is_dir():
            return live, away
        with os.scandir(self.folder) as it:
            for entry in it:
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                key = f"{st.st_dev}:{st.st_ino}"
                if fnmatch.fnmatchcase(entry.name, self.pattern) and entry.is_file():
                    live[key] = Path(entry.path)
                elif key in self.files or key in self.fds:
                    away[key] = Path(entry.path)
        return dict(sorted(live.items(), key=lambda kv: kv[1].name)), away

    def _open(self, key: str, path: Path) -> int | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        st = os.fstat(fd)
        if f"{st.st_dev}:{st.st_ino}" != key:  # replaced between scan and open: next poll sees the new one
            os.close(fd)
            return None
        known = self.files.get(key)
        if known is not None and known["offset"] > st.st_size:  # truncated while we were not running
            self.counts["truncations"] += 1
            known = None
        if known is None or _head(fd, known["offset"]) != known.get("head"):  # new, or a reused inode
            self.files[key] = {"path": str(path), "offset": 0, "head": _head(fd, 0)}
        self.files[key]["path"] = str(path)
        self.fds[key] = fd
        return fd

    def poll_once(self) -> int:
        """Publish every complete line now in the folder; returns the number of lines handled."""
        live, away = self._scan()
        handled = 0
        # what a rotated file still holds is older than anything in its successor: read it first
        for key, path in away.items():
            handled += self._drain(key, path)
            self._forget(key)
        for key in [k for k in self.fds if k not in live and k not in away]:  # deleted: its fd still reads
            handled += self._drain(key, Path(self.files[key]["path"]))
            self._forget(key)
        for key, path in live.items():
            handled += self._drain(key, path)
        for key in [k for k in self.files if k not in live and k not in self.fds]:
            del self.files[key]  # gone while we were not running: nothing left to read
        return handled

    def _forget(self, key: str) -> None:
        fd = self.fds.pop(key, None)
        if fd is not None:
            os.close(fd)
        self.files.pop(key, None)
        self._save()

    def _drain(self, key: str, path: Path) -> int:
        fd = self.fds.get(key)
        if fd is None:
            fd = self._open(key, path)
            if fd is None:
                return 0
        state = self.files[key]
        if os.fstat(fd).st_size < state["offset"]:  # truncated in place: start over
            state["offset"] = 0
            self.counts["truncations"] += 1
        handled = 0
        while True:
            data = os.pread(fd, READ_CHUNK, state["offset"])
            end = data.rfind(b"\n")
            if end < 0:
                if len(data) > ev.MAX_LINE_BYTES:  # no newline in sight: set the bytes aside, not the tailer
                    self._publish(key, fd, [(state["offset"], data)], len(data))
                    handled += 1
                    continue
                return handled
            lines, pos = [], state["offset"]
            for raw in data[: end + 1].split(b"\n")[:-1]:
                lines.append((pos, raw))
                pos += len(raw) + 1
            for i in range(0, len(lines), self.batch_lines):
                chunk = lines[i : i + self.batch_lines]
                last_pos, last_raw = chunk[-1]
                self._publish(key, fd, chunk, last_pos + len(last_raw) + 1 - state["offset"])
            handled += len(lines)

    def _publish(self, key: str, fd: int, lines: list[tuple[int, bytes]], advance: int) -> None:
        state, good, bad = self.files[key], [], []
        for pos, raw in lines:
            try:
                ev.parse(raw)
                good.append(raw)  # the line as written, now known to be an event
            except ev.BadEvent as exc:
                bad.append(
                    {
                        "file": state["path"],
                        "offset": pos,
                        "reason": exc.reason,
                        "detail": str(exc),
                        "line": raw[:500].decode("utf-8", "replace"),
                    }
                )
        if good:
            pipe = self.redis.pipeline(transaction=False)
            for line in good:
                pipe.xadd(self.keys.stream, {"event": line}, maxlen=self.maxlen, approximate=True)
            pipe.execute()  # a Redis error leaves the offset where it was: the batch is read again
        if bad:
            self.quarantine_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.quarantine_path, "a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps(b) + "\n" for b in bad))
                fh.flush()
                os.fsync(fh.fileno())  # on disk before the state below says it is
                self.quarantine_bytes = fh.tell()
            if self.metrics:
                self.metrics.events.labels("quarantined").inc(len(bad))
        state["offset"] += advance
        if state["offset"] - advance < HEAD_BYTES:  # the head covers min(64, offset) bytes
            state["head"] = _head(fd, state["offset"])
        self.counts["lines"] += len(lines)
        self.counts["published"] += len(good)
        self.counts["quarantined"] += len(bad)
        self._save()

    def _save(self) -> None:
        state = {"files": self.files, "counts": self.counts, "quarantine_bytes": self.quarantine_bytes}
        write_json_atomic(state, self.state_path)
