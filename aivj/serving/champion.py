"""The champion the service scores with, swapped when the registry's champion pointer moves.

A watcher thread reads the pointer every ``poll_seconds`` (one small file) and loads a new version
beside the old one; requests keep the old scorer until the new one has loaded, then get the new one
in one assignment. A version that fails to load leaves the old one serving and is counted; the
watcher tries it again only when the pointer moves again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aivj.inference import Scorer, load_scorer
from aivj.registry.store import Registry, RegistryError

log = logging.getLogger("aivj.serving")


@dataclass(frozen=True)
class Loaded:
    version: str
    scorer: Scorer
    loaded_at: float  # unix time


class ChampionHolder:
    def __init__(
        self,
        registry_dir=None,
        on_swap: Callable[[Loaded], None] | None = None,
        on_failure: Callable[[str, str], None] | None = None,
    ) -> None:
        self.registry_dir = registry_dir
        self.on_swap, self.on_failure = on_swap, on_failure
        self.current: Loaded | None = None
        self.failed: dict[str, str] = {}  # version -> why it did not load
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pointer(self) -> str | None:
        return Registry(self.registry_dir).default_champion()

    def get(self) -> Loaded:
        current = self.current
        if current is None:
            raise RuntimeError("no champion loaded")
        return current

    def refresh(self) -> bool:
        """Load the pointer's version if it is not the one serving; True when it swapped."""
        with self._lock:  # one load at a time; readers never wait on it
            try:
                version = self.pointer()
            except RegistryError as exc:
                log.warning("champion pointer unreadable, keeping %s: %s", self.current and self.current.version, exc)
                return False
            if version is None:
                if self.current is None:
                    raise RegistryError(f"{Registry(self.registry_dir).root}: no champion to serve")
                return False
            self.failed = {v: why for v, why in self.failed.items() if v == version}  # the pointer moved: retry later
            if (self.current and self.current.version == version) or version in self.failed:
                return False
            try:
                scorer = load_scorer(version, self.registry_dir)
            except (ValueError, RegistryError, OSError) as exc:
                if self.current is None:
                    raise
                self.failed[version] = str(exc)
                if self.on_failure is not None:
                    self.on_failure(version, str(exc))
                log.error("champion %s did not load, still serving %s: %s", version, self.current.version, exc)
                return False
            loaded = Loaded(version, scorer, time.time())
            if self.on_swap is not None:
                self.on_swap(loaded)
            self.current = loaded
            log.info("serving champion %s", version)
            return True

    def start(self, poll_seconds: float) -> None:
        self.refresh()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, args=(poll_seconds,), name="champion-watch", daemon=True)
        self._thread.start()

    def _watch(self, poll_seconds: float) -> None:
        while not self._stop.wait(poll_seconds):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - the watcher must outlive one bad version
                log.exception("champion refresh failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
