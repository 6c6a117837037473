"""Style probabilities -> what the pairing side should prefer (conf/style/visuals.yaml, docs/style.md).

``blend`` mixes each style's entry by its probability: weights of preset categories (Cream of the
Crop's themes) and preset style tags, and ranges of coupling strength, parallax and phase. A
preset's tags are the aidata generator's rules on its parsed values:

    spiral     |rot| > 0.3 and 1.5 <= warp <= 3        explosive  warp > 3.5 and decay > 0.92
    implosive  zoom < 0.8                             wave       wave mode 2, 4 or 7
    chaotic    warp > 5                               minimal    fewer than 4 lines of per-frame/per-pixel code
    shapecode  a custom shape is enabled

``style_fit`` of a preset: half its category's weight, half its best tag's weight; of a pair, the
mean of FG and BG. ``coupling_fit``: 1 inside the coupling range, falling to 0 at 0.3 outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivj.home import project_root

TAGS = ("spiral", "explosive", "implosive", "wave", "chaotic", "minimal", "shapecode")
RANGES = ("coupling", "parallax", "phase")


def mapping_path() -> Path:
    return project_root() / "conf" / "style" / "visuals.yaml"


def load_mapping(path: str | Path | None = None) -> dict:
    from omegaconf import OmegaConf

    path = Path(path) if path else mapping_path()
    if not path.is_file():
        raise ValueError(f"{path}: no style-to-visuals mapping")
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


@dataclass
class VisualProfile:
    categories: dict[str, float]
    tags: dict[str, float]
    ranges: dict[str, tuple[float, float]]
    style_weight: float

    def preset_fit(self, category: str | None, tags: set[str]) -> float:
        cat = self.categories.get((category or "").split("/")[0], 0.0)
        return 0.5 * cat + 0.5 * max((self.tags.get(t, 0.0) for t in tags), default=0.0)

    def coupling_fit(self, coupling: float) -> float:
        lo, hi = self.ranges["coupling"]
        return float(max(0.0, 1.0 - max(lo - coupling, coupling - hi, 0.0) / 0.3))


def blend(probs: np.ndarray, labels: list[str], mapping: dict) -> VisualProfile:
    """Each style's entry weighted by its probability (styles the mapping lacks contribute nothing)."""
    cats: dict[str, float] = {}
    tags: dict[str, float] = {}
    ranges = {r: np.zeros(2) for r in RANGES}
    total = 0.0
    for p, label in zip(probs, labels):
        entry = mapping.get(label)
        if not entry:
            continue
        total += float(p)
        for name, w in entry.get("categories", {}).items():
            cats[name] = cats.get(name, 0.0) + float(p) * w
        for name, w in entry.get("tags", {}).items():
            tags[name] = tags.get(name, 0.0) + float(p) * w
        for r in RANGES:
            ranges[r] += float(p) * np.asarray(entry[r], dtype=float)
    total = total or 1.0
    return VisualProfile(
        {k: v / total for k, v in cats.items()},
        {k: v / total for k, v in tags.items()},
        {r: (round(float(v[0] / total), 3), round(float(v[1] / total), 3)) for r, v in ranges.items()},
        float(mapping.get("style_weight", 0.5)),
    )


def preset_tags(entries: dict[str, str]) -> set[str]:
    """The generator's style tags of one parsed preset (``MilkPreset.entries()``: lower-case keys)."""
    from aivj.milk.features import code_line_counts

    def num(key: str, default: float) -> float:
        try:
            value = float(entries.get(key, default))
        except (TypeError, ValueError):
            return default
        return value if np.isfinite(value) else default

    warp, rot, zoom, decay = num("warp", 1.0), num("rot", 0.0), num("zoom", 1.0), num("fdecay", 0.98)
    counts = code_line_counts(entries)
    out = set()
    if abs(rot) > 0.3 and 1.5 <= warp <= 3:
        out.add("spiral")
    if warp > 3.5 and decay > 0.92:
        out.add("explosive")
    if zoom < 0.8:
        out.add("implosive")
    if int(num("nwavemode", 0)) in (2, 4, 7):
        out.add("wave")
    if warp > 5:
        out.add("chaotic")
    if counts.get("per_frame", 0) + counts.get("per_pixel", 0) < 4:
        out.add("minimal")
    if any(num(f"shapecode_{i}_enabled", 0) for i in range(4)):
        out.add("shapecode")
    return out
