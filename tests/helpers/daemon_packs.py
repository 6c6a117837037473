"""Aidata packs with a planted, learnable answer for the daemon's tests (tests/test_daemon*.py).

A pair scores high (quality 0.9) when its foreground preset zooms in and warps hard (``zoom``, ``warp``:
two of the 64 static features), low (0.2) when it zooms out and barely warps; ``invert`` flips that (a pack that degrades a model trained on
it). ``bad_files`` presets are truncated to garbage and ``bad_lines`` manifest lines are not JSON: the
importer quarantines those rows. ``elite_pack`` is the golden set: zoom-in pairs scored 4.5.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from aivj.milk.synthetic import synthetic_preset

_HIGH, _LOW = {"zoom": 1.3, "warp": 5.0}, {"zoom": 0.8, "warp": 0.05}


def _pair_files(pack: Path, stem: str, seed: int, high: bool) -> tuple[str, str]:
    for side in ("fg", "bg"):
        (pack / side).mkdir(parents=True, exist_ok=True)
    fg, bg = f"fg/{stem}_fg.milk", f"bg/{stem}_bg.milk"
    (pack / fg).write_text(synthetic_preset(2 * seed, **(_HIGH if high else _LOW)).to_text())
    (pack / bg).write_text(synthetic_preset(2 * seed + 1).to_text())
    return fg, bg


def planted_pack(root: Path, name: str, n: int, seed: int, invert: bool = False, bad_files: int = 0,
                 bad_lines: int = 0) -> set[tuple[str, int]]:  # fmt: skip
    """Write ``root/name`` (manifest.jsonl with a quality per line); returns the (pack, pair) keys that are good."""
    pack, rng, lines, good = Path(root) / name, random.Random(seed), [], set()
    for i in range(n):
        zooms_in = rng.random() < 0.5
        fg, bg = _pair_files(pack, f"{name}_{i:04d}", seed * 1000 + i, zooms_in)
        lines.append(json.dumps({"pair": i, "fg": fg, "bg": bg, "quality": 0.9 if zooms_in != invert else 0.2}))
        if i < bad_files:
            (pack / fg).write_text("\x00\x01 not a preset")  # quarantined as "invalid preset"
        else:
            good.add((name, i))
    lines += ["{not json" for _ in range(bad_lines)]  # quarantined as "invalid manifest line"
    (pack / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return good


def elite_pack(root: Path, n: int, seed: int = 77) -> set[tuple[str, int]]:
    pack, items = Path(root) / "AIVJ_FINAL_ELITE", []
    for i in range(n):
        fg, bg = _pair_files(pack, f"elite_{i:04d}", seed * 1000 + i, True)
        items.append({"pair": i, "fg": fg, "bg": bg, "score": 4.5})
    (pack / "AIVJ_FINAL_ELITE_MANIFEST.json").write_text(json.dumps({"pairs": items}))
    return {("AIVJ_FINAL_ELITE", i) for i in range(n)}
