"""Content identity of a preset: the same text under another file name is the same preset.

The Debian set ships 4,188 files with only ~2,259 distinct contents, so presets are keyed by
this hash everywhere (``preset_id`` in the presets table).
"""

from __future__ import annotations

import hashlib

HASH_CHARS = 20  # 80 bits: collisions are negligible for millions of presets


def normalise_bytes(data: bytes | str) -> bytes:
    """UTF-8 BOM stripped and CRLF -> LF, so a file re-saved on Windows keeps its identity."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.replace(b"\r\n", b"\n")


def content_hash(data: bytes | str) -> str:
    """First 20 hex chars of sha256 over the normalised bytes."""
    return hashlib.sha256(normalise_bytes(data)).hexdigest()[:HASH_CHARS]
