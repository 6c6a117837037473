"""Split assignment for imported pairs (documented in docs/features.md, "Splits").

- ``golden``: every pair of an elite manifest.
- ``test_unseen``: a pair with a held-out preset; a preset is held out when the first 8 hex digits
  of its content hash, as an integer, are 0 mod 20 (5% of distinct presets). No train/val pair
  contains a held-out preset, so this split measures generalisation to unseen presets.
- otherwise the pair's own hash ``sha256(fg_id + ":" + bg_id)`` picks ``train`` (80%), ``val`` (10%)
  or ``test_seen`` (10%).
Content hashes, not paths or row order, decide: the same presets land in the same split on
every run and on every machine.
"""

from __future__ import annotations

import hashlib

HELD_OUT_MODULUS = 20


def is_held_out(preset_id: str) -> bool:
    return int(preset_id[:8], 16) % HELD_OUT_MODULUS == 0


def assign_split(fg_id: str, bg_id: str, is_elite: bool) -> str:
    if is_elite:
        return "golden"
    if is_held_out(fg_id) or is_held_out(bg_id):
        return "test_unseen"
    bucket = int(hashlib.sha256(f"{fg_id}:{bg_id}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 80 else ("val" if bucket < 90 else "test_seen")
