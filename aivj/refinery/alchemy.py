"""Alchemy: generate coupled FG/BG pairs from seed presets with the user's pairing rules.

Rules (aidata-formats.md): the FG style follows the style matrix from the BG's style (spiral ->
explosive, minimal -> wave, implosive -> expansive, chaotic -> minimal, wave -> spiral; otherwise
any), its code comes from a seed of that style, and its motion base values derive from the BG:
``fg_warp = bg_warp * (1 + strength * U(0.3, 1.0))``, ``fg_zoom = bg_zoom * U(0.8, 1.5)``,
``fg_rot = -bg_rot + rot_diff``, ``fg_cx = bg_cx +- 0.05``, ``fg_decay = bg_decay - 0.05``.
With ``couple=True`` both layers get time-coupling terms in their per-frame equations (one shared
phase per pair, opposite signs): cx +- k_spatial*0.03*sin(w t + phi), rot/zoom +- k_temporal*(0.15,
0.01)*sin(...), warp + k_warp*0.1*cos(...)*warp_other. Output is a coupled pack: ``fg/``, ``bg/``,
``manifest.jsonl`` (pair_id, fg, bg, strategy, strength, bg_style, fg_style, warp_diff, cx_diff).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivj.contract.atomic import write_text_atomic
from aivj.milk.pairs import style_tags
from aivj.milk.parser import parse_milk

STYLE_MATRIX = {"spiral": "explosive", "minimal": "wave", "implosive": "expansive", "chaotic": "minimal", "wave": "spiral"}
K_SPATIAL, K_TEMPORAL, K_WARP = 0.3, 0.4, 0.25
ALCHEMY_VERSION = 1


@dataclass
class Seed:
    path: str
    text: str
    tags: list[str]


def load_seeds(paths: list[str]) -> list[Seed]:
    seeds = []
    for p in paths:
        text = Path(p).read_text(encoding="utf-8", errors="replace")
        try:
            seeds.append(Seed(p, text, style_tags(parse_milk(text, p))))
        except ValueError:
            continue  # an unparsable seed is simply not used
    if not seeds:
        raise ValueError("alchemy: no seed preset could be parsed")
    return seeds


def _fmt(x: float) -> str:
    return f"{x:.6f}"


def _couple(preset, sign: float, w: float, phi: float, warp_other: float) -> None:
    s = "+" if sign > 0 else "-"
    preset.per_frame.extend(
        [
            f"cx = cx {s} {K_SPATIAL * 0.03:.5f}*sin({w:.5f}*time + {phi:.4f});",
            f"rot = rot {s} {K_TEMPORAL * 0.15:.5f}*sin({w:.5f}*time + {phi:.4f});",
            f"zoom = zoom {s} {K_TEMPORAL * 0.01:.5f}*sin({w:.5f}*time + {phi:.4f});",
            f"warp = warp + {K_WARP * 0.1 * warp_other:.5f}*cos({w:.5f}*time + {phi:.4f});",
        ]
    )


def make_pair(
    bg_seed: Seed,
    seeds_by_style: dict[str, list[Seed]],
    all_seeds: list[Seed],
    pair_id: int,
    rng: np.random.Generator,
    couple: bool,
    bpm: float = 128.0,
) -> tuple[str, str, dict]:
    bg_style = bg_seed.tags[0]
    target = next((STYLE_MATRIX[t] for t in bg_seed.tags if t in STYLE_MATRIX), None)
    pool = seeds_by_style.get(target) or all_seeds
    donor = pool[int(rng.integers(len(pool)))]
    bg = parse_milk(bg_seed.text, bg_seed.path)
    fg = parse_milk(donor.text, donor.path)
    v = bg.value
    strength = float(rng.uniform(0.3, 1.0))
    bg_warp, bg_cx = v("warp", 1.0), v("cx", 0.5)
    fg_vals = {
        "warp": bg_warp * (1 + strength * rng.uniform(0.3, 1.0)),
        "zoom": v("zoom", 1.0) * rng.uniform(0.8, 1.5),
        "rot": -v("rot", 0.0) + rng.uniform(-0.1, 0.1),
        "cx": bg_cx + rng.choice([-0.05, 0.05]),
        "fdecay": max(0.5, v("fdecay", 0.98) - 0.05),
    }
    _ = fg.base  # build the structure: edits below go through it
    for key, value in fg_vals.items():
        fg.base[key] = _fmt(value)
    strategy = "style_matrix" if target and seeds_by_style.get(target) else "derive"
    if couple:
        w = 2 * math.pi * bpm / 60.0 / 4.0  # one cycle per bar
        phi = (pair_id * 0.7548776662) % (2 * math.pi)
        _ = bg.base
        _couple(fg, +1.0, w, phi, bg_warp)
        _couple(bg, -1.0, w, phi, fg_vals["warp"])
        strategy += "+coupled"
    meta = {
        "pair_id": pair_id,
        "strategy": strategy,
        "strength": round(strength, 4),
        "bg_style": bg_style,
        "fg_style": (donor.tags[0] if donor.tags else "balanced"),
        "warp_diff": round(abs(fg_vals["warp"] - bg_warp), 6),
        "cx_diff": round(abs(fg_vals["cx"] - bg_cx), 6),
        "bg_seed": Path(bg_seed.path).name,
        "fg_seed": Path(donor.path).name,
    }
    return fg.to_text(), (bg.to_text() if couple else bg_seed.text), meta


def _write(path: Path, text: str) -> None:
    write_text_atomic(path, text)


def generate(seed_paths: list[str], out_dir: Path, n_pairs: int, seed: int = 0, couple_fraction: float = 0.5) -> Path:
    """Write ``n_pairs`` coupled pairs into ``out_dir``; returns the manifest path."""
    rng = np.random.default_rng(seed)
    seeds = load_seeds(seed_paths)
    by_style: dict[str, list[Seed]] = {}
    for s in seeds:
        for t in s.tags:
            by_style.setdefault(t, []).append(s)
    out_dir = Path(out_dir)
    (out_dir / "fg").mkdir(parents=True, exist_ok=True)
    (out_dir / "bg").mkdir(parents=True, exist_ok=True)
    lines = []
    for pid in range(n_pairs):
        bg_seed = seeds[int(rng.integers(len(seeds)))]
        couple = bool(rng.random() < couple_fraction)
        fg_text, bg_text, meta = make_pair(bg_seed, by_style, seeds, pid, rng, couple)
        stem = f"alchemy_{pid:05d}"
        _write(out_dir / "fg" / f"{stem}_fg.milk", fg_text)
        _write(out_dir / "bg" / f"{stem}_bg.milk", bg_text)
        lines.append(json.dumps({"fg": f"fg/{stem}_fg.milk", "bg": f"bg/{stem}_bg.milk", **meta}, sort_keys=True))
    manifest = out_dir / "manifest.jsonl"
    _write(manifest, "\n".join(lines) + "\n")
    return manifest
