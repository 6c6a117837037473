"""Pair-level terms computed from two feature vectors, and the generator's style tags.

``pair_terms`` is the one place the spatial and temporal pair terms are defined (docs/features.md
lists them). It decodes the raw parameter values it needs from the normalised vectors, so
``cx_diff`` and ``warp_diff`` are in the same units as the user's manifests (|FG - BG|).
"""

from __future__ import annotations

import numpy as np

from aivj.milk.feature_spec import FEATURE_INDEX as I

PAIR_TERM_NAMES = (
    # spatial
    "cx_parallax", "cy_parallax", "parallax", "cx_diff", "warp_diff", "warp_ratio", "zoom_ratio",
    # temporal
    "rot_interference", "rot_net", "decay_diff", "phase", "motion_diff",
)  # fmt: skip

_CLOCK_DIMS = [
    I[n]
    for n in (
        "uses_bass",
        "uses_mid",
        "uses_treb",
        "uses_bass_att",
        "uses_mid_att",
        "uses_treb_att",
        "uses_time",
        "uses_frame",
        "uses_trig",
    )
]


def _atanh(x: np.ndarray) -> np.ndarray:
    return np.arctanh(np.clip(x, -0.999999, 0.999999))


def pair_terms(fg: np.ndarray, bg: np.ndarray) -> dict[str, np.ndarray]:
    """Terms for FG/BG vectors of shape [..., 64]; each value has shape [...] (float32).

    Spatial: cx/cy parallax (signed, raw units), parallax length, ``cx_diff`` and ``warp_diff``
    (|FG - BG| of cx and warp, raw units as in the manifests), warp and zoom ratios
    (tanh of the log ratio, 0 = equal). Temporal: rotation interference (product of the normalised
    rotations, < 0 when the layers counter-rotate), net rotation, decay difference, phase (cosine
    similarity of the audio/time usage dims: 1 = both layers driven by the same clocks), and the
    difference in how much motion is animated by code.
    """
    fg = np.asarray(fg, dtype=np.float32)
    bg = np.asarray(bg, dtype=np.float32)
    if fg.shape[-1] != 64 or bg.shape[-1] != 64:
        raise ValueError(f"pair_terms: expected [..., 64] vectors, got {fg.shape} and {bg.shape}")
    cx = fg[..., I["cx"]] - bg[..., I["cx"]]
    cy = fg[..., I["cy"]] - bg[..., I["cy"]]
    warp_fg, warp_bg = 3.0 * _atanh(fg[..., I["warp"]]), 3.0 * _atanh(bg[..., I["warp"]])
    log_zoom_fg, log_zoom_bg = 0.2 * _atanh(fg[..., I["zoom"]]), 0.2 * _atanh(bg[..., I["zoom"]])
    rot_fg, rot_bg = fg[..., I["rot"]], bg[..., I["rot"]]
    clk_fg, clk_bg = fg[..., _CLOCK_DIMS], bg[..., _CLOCK_DIMS]
    norm = np.linalg.norm(clk_fg, axis=-1) * np.linalg.norm(clk_bg, axis=-1)
    phase = np.where(norm > 0, (clk_fg * clk_bg).sum(-1) / np.maximum(norm, 1e-12), 0.0)
    terms = {
        "cx_parallax": cx,
        "cy_parallax": cy,
        "parallax": np.hypot(cx, cy),
        "cx_diff": np.abs(cx),
        "warp_diff": np.abs(warp_fg - warp_bg),
        "warp_ratio": np.tanh(np.log((np.abs(warp_fg) + 0.01) / (np.abs(warp_bg) + 0.01)) / np.log(4.0)),
        "zoom_ratio": np.tanh((log_zoom_fg - log_zoom_bg) / 0.2),
        "rot_interference": rot_fg * rot_bg,
        "rot_net": np.abs(rot_fg + rot_bg) / 2.0,
        "decay_diff": fg[..., I["decay"]] - bg[..., I["decay"]],
        "phase": phase,
        "motion_diff": np.abs(fg[..., I["dynamic_motion"]] - bg[..., I["dynamic_motion"]]),
    }
    return {name: np.asarray(terms[name], dtype=np.float32) for name in PAIR_TERM_NAMES}


def pair_term_matrix(fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """The terms stacked in ``PAIR_TERM_NAMES`` order: float32[..., 12]."""
    terms = pair_terms(fg, bg)
    return np.stack([terms[n] for n in PAIR_TERM_NAMES], axis=-1)


def style_tags(preset) -> list[str]:
    """The generator's style rules (aidata-formats.md); ``balanced`` when none applies.

    Reads ``entries()`` like the features do, so tagging does not build the parsed structure.
    """
    from aivj.milk.features import code_line_counts

    v = preset.value
    warp, rot, zoom, decay = v("warp", 1.0), v("rot", 0.0), v("zoom", 1.0), v("fdecay", 0.98)
    counts = code_line_counts(preset.entries())
    tags = []
    if rot > 0.3 and 1.5 <= warp <= 3.0:
        tags.append("spiral")
    if warp > 3.5 and decay > 0.92:
        tags.append("explosive")
    if zoom < 0.8:
        tags.append("implosive")
    if zoom > 1.2:
        tags.append("expansive")
    if int(v("nwavemode", 0.0)) in (2, 4, 7):
        tags.append("wave")
    if warp > 5.0:
        tags.append("chaotic")
    if counts["per_frame"] + counts["per_pixel"] <= 5:
        tags.append("minimal")
    if any(v(f"shapecode_{k}_enabled", 0.0) != 0.0 for k in range(4)):
        tags.append("shapecode")
    return tags or ["balanced"]
