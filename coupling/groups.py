"""Semantic token groups: which feature dimensions become which attention token (defined once here).

A preset becomes up to 9 tokens: 6 from the 64 static .milk features (groups named in the issue,
built from the groups of aivj/milk/feature_spec.py; docs/features.md lists every dimension) and
3 from the 96 render descriptors (datamodules/schema.py order: summary, 8x8 layout, motion series).
"""

from __future__ import annotations

from aivj.contract.schema import (
    FEATURE_DIM,
    RENDER_LAYOUT_DIM,
    RENDER_MOTION_DIM,
    RENDER_SUMMARY_DIM,
)

# Feature names per token. Colour gathers the wave colour and the colour-changing post effects;
# echo/post keeps the geometric post-processing (video echo, texture wrap, borders); complexity is
# the code-size group; audio reactivity includes the time/trig tokens that drive animation.
STATIC_GROUP_NAMES: dict[str, list[str]] = {
    "motion": [
        "zoom",
        "rot",
        "warp",
        "cx",
        "cy",
        "dx",
        "dy",
        "sx",
        "sy",
        "decay",
        "warp_anim_speed",
        "warp_scale",
        "zoom_exponent",
        "mv_on",
        "mv_density",
        "mv_alpha",
        "mv_shift",
    ],
    "waves": [
        "wave_mode",
        "wave_alpha",
        "wave_scale",
        "wave_smoothing",
        "wave_additive",
        "wave_dots",
        "wave_thick",
        "wave_alpha_by_volume",
    ],
    "colour": [
        "wave_r",
        "wave_g",
        "wave_b",
        "wave_maximize_color",
        "gamma",
        "brighten",
        "darken",
        "solarize",
        "invert",
        "darken_center",
    ],
    "echo_post": [
        "echo_zoom",
        "echo_alpha",
        "echo_orientation",
        "tex_wrap",
        "outer_border_size",
        "outer_border_alpha",
        "inner_border_size",
        "inner_border_alpha",
    ],
    "complexity": [
        "per_frame_lines",
        "per_pixel_lines",
        "init_lines",
        "waves_enabled",
        "shapes_enabled",
        "wave_code_lines",
        "shape_code_lines",
        "warp_shader",
        "comp_shader",
        "shader_lines",
        "milkdrop2",
    ],
    "audio": [
        "uses_bass",
        "uses_mid",
        "uses_treb",
        "uses_bass_att",
        "uses_mid_att",
        "uses_treb_att",
        "uses_time",
        "uses_frame",
        "uses_trig",
        "dynamic_motion",
    ],
}

_S, _L = RENDER_SUMMARY_DIM, RENDER_SUMMARY_DIM + RENDER_LAYOUT_DIM
RENDER_GROUPS: dict[str, list[int]] = {
    "render_summary": list(range(0, _S)),
    "render_layout": list(range(_S, _L)),  # 8x8 time-averaged luma, row-major
    "render_motion": list(range(_L, _L + RENDER_MOTION_DIM)),
}


def static_groups() -> dict[str, list[int]]:
    """Token name -> indices into the 64 static features (every index exactly once)."""
    from aivj.milk.feature_spec import FEATURE_INDEX

    groups = {g: [FEATURE_INDEX[n] for n in names] for g, names in STATIC_GROUP_NAMES.items()}
    covered = sorted(i for idx in groups.values() for i in idx)
    if covered != list(range(FEATURE_DIM)):
        raise ValueError("coupling/groups.py: static token groups must cover the 64 features exactly once")
    return groups


def token_groups(inputs: str) -> dict[str, tuple[str, list[int]]]:
    """Token name -> (source 'static' | 'render', indices) for a model's ``inputs`` setting."""
    tokens: dict[str, tuple[str, list[int]]] = {}
    if inputs in ("static", "both"):
        tokens.update({n: ("static", idx) for n, idx in static_groups().items()})
    if inputs in ("render", "both"):
        tokens.update({n: ("render", idx) for n, idx in RENDER_GROUPS.items()})
    if not tokens:
        raise ValueError(f"model inputs must be static, render or both, got {inputs!r}")
    return tokens
