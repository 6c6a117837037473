"""``pairs-coupling.v0.json``: each pair's coupling setting, as the model's coupling head predicts it.

Written beside ``pairs-quality.v0.json`` by ``aivj export pairs-coupling --pack P``; the format is
docs/coupling.md's, every value in the app's ranges (aivj/contract/coupling.py):

    {"format": "pairs-coupling.v0", "pack", "model", "scoringPath", "opacityBudget": 1.2,
     "pairs": [{"pair", "opacity": {"fg", "bg"}, "offset": {"x", "y"}, "parallax", "scale", "depth",
                "phaseBeats"}], "stats": {"missingFiles", "pairs"}}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aivj.contract import coupling as cc
from aivj.inference.packs import load_features, read_pack
from aivj.milk.hashing import content_hash

FORMAT = "pairs-coupling.v0"
DECIMALS = 4


def pair_entry(pair: int, s: dict, i: int) -> dict:
    """One pair of the file from settings in app units (``Scorer.coupling_settings``), row ``i``."""
    r = lambda v: round(float(v), DECIMALS)  # noqa: E731 - one rounding rule for every value
    dx, dy, scale = float(s["dx"][i]), float(s["dy"][i]), float(s["scale"][i])
    lo, hi = cc.SCALE_RANGE
    return {
        "pair": int(pair),
        "opacity": {"fg": r(s["fg_opacity"][i]), "bg": r(s["bg_opacity"][i])},
        "offset": {"x": r(dx), "y": r(dy)},
        "parallax": r(min(max(abs(dx), abs(dy)), cc.OFFSET_RANGE[1])),
        "scale": r(scale),
        "depth": r((scale - lo) / (hi - lo)),
        "phaseBeats": r(int(s["phase"][i]) / cc.FRAMES_PER_BEAT),
    }


def document(pack: str, model: str, path: str, pairs: list[int], settings: dict, missing: int) -> dict:
    return {
        "format": FORMAT,
        "pack": pack,
        "model": model,
        "scoringPath": path,
        "opacityBudget": cc.OPACITY_BUDGET,
        "pairs": [pair_entry(p, settings, i) for i, p in enumerate(pairs)],
        "stats": {"missingFiles": int(missing), "pairs": len(pairs)},
    }


def export_coupling(pack_dir: Path, scorer, path: str, workers=None, cache_root=None, progress: bool = True) -> dict:
    """The document for a pack folder on ``path`` ('render': presets rendered through the refinery, as
    ``pairs-quality`` does; 'static': static features only)."""
    pack_dir = Path(pack_dir)
    pack = read_pack(pack_dir)
    rows, static, usable, missing = load_features(pack_dir, pack.pairs)
    if not usable:
        raise ValueError(
            f"{pack.source}: none of its {len(pack.pairs)} pair(s) is usable ({missing} preset file(s) missing or unparsable)"
        )
    render = has = None
    if path == "render":
        from aivj.export.renders import render_pack

        path_of_row = {r: p for p, r in rows.items()}
        id_of_row = {r: content_hash(p.read_bytes()) for p, r in rows.items()}
        first: dict[str, Path] = {}
        for r in sorted(id_of_row):
            first.setdefault(id_of_row[r], path_of_row[r])
        renders = render_pack(first, workers, cache_root, progress=progress)
        take = np.asarray([renders.row()[id_of_row[r]] for r in range(len(static))], dtype=np.int64)
        render, has = renders.render[take], renders.has_render[take]
    enc = scorer.encode_presets(static, render, has)
    settings = scorer.coupling_settings(enc, [u[1] for u in usable], [u[2] for u in usable])
    return document(pack.pack, scorer.label, path, [u[0] for u in usable], settings, missing)
