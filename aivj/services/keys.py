"""API keys, stored as SHA-256 hashes only: a leaked key file gives nobody a working key.

A key is 32 random bytes (``secrets.token_urlsafe``), shown once when issued. The file maps each
key's hash to the client's name; a key is checked by hashing it and comparing in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

from aivj.contract.atomic import write_text_atomic


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cached: tuple[tuple, dict[str, str]] | None = None  # (the file's inode, mtime, size), its hashes

    def _load(self) -> dict[str, str]:
        """The file's hashes, read again only when it changed (an issue replaces it: a new inode)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._cached
        if cached is not None and cached[0] == stamp:
            return cached[1]
        hashes = self._read()
        self._cached = (stamp, hashes)
        return hashes

    def _read(self) -> dict[str, str]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{self.path}: unreadable API key file ({type(exc).__name__})") from None
        if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
            raise ValueError(f"{self.path}: not a {{hash: client}} JSON object")
        return doc

    def issue(self, client: str) -> str:
        """A new key for ``client``; only its hash is written."""
        key = secrets.token_urlsafe(32)
        hashes = {**self._load(), key_hash(key): client}
        write_text_atomic(self.path, json.dumps(hashes, indent=2, sort_keys=True) + "\n", durable=True)
        return key

    def client_of(self, key: str | None) -> str | None:
        """The client a key was issued to, or None."""
        if not key:
            return None
        digest = key_hash(key)
        for stored, client in self._load().items():
            if hmac.compare_digest(stored, digest):
                return client
        return None
