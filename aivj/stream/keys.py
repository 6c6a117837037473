"""The Redis keys: the contract between the tailer, the workers, the readers and whatever replaces them.

- ``{p}stream:events`` Stream; each entry has one field ``event``, the log line (events.Event.line).
- ``{p}topk:{pack}`` sorted set: member = pair id (decimal), score = the pair's sampling weight.
- ``{p}pair:{pack}:{pair}`` hash: weight, m (momentum), score, rank, time (event time), event (last event id),
  applied_at (Redis time when applied), n (events applied), source, fg, bg.
- ``{p}applied:{event id}`` "1" with a TTL: the event was applied (idempotence by event id).
- ``{p}packs`` set of the packs seen.
"""

from __future__ import annotations


class Keys:
    def __init__(self, prefix: str = "aivj:") -> None:
        self.prefix = prefix
        self.stream = f"{prefix}stream:events"
        self.packs = f"{prefix}packs"

    def topk(self, pack: str) -> str:
        return f"{self.prefix}topk:{pack}"

    def pair(self, pack: str, pair: int | str) -> str:
        return f"{self.prefix}pair:{pack}:{pair}"

    def applied(self, event_id: str) -> str:
        return f"{self.prefix}applied:{event_id}"
