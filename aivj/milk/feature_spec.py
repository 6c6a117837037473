"""The 64 feature dimensions: name, group, source and normalisation (docs/features.md mirrors this).

Normalisations keep every value in [-1, 1] or [0, 1] so a network can use them raw:
``tanh(x / s)`` for unbounded signed values, ``tanh(log(x) / log(b))`` for multiplicative ones
(1.0 -> 0), ``clip01`` for values that are already fractions, ``count`` = min(1, log1p(n) / log1p(cap)).
"""

from __future__ import annotations

from aivj.contract.schema import FEATURE_DIM, FEATURE_VERSION

__all__ = ["FEATURE_VERSION", "FEATURE_SPEC", "BASE_DEFAULTS", "FEATURE_NAMES", "FEATURE_INDEX"]

# (name, group, source, normalisation)
FEATURE_SPEC: list[tuple[str, str, str, str]] = [
    ("zoom", "motion", "zoom (default 1)", "tanh(ln(zoom) / 0.2)"),
    ("rot", "motion", "rot (default 0)", "tanh(rot / 0.5)"),
    ("warp", "motion", "warp (default 1)", "tanh(warp / 3)"),
    ("cx", "motion", "cx (default 0.5)", "clip(cx - 0.5, -1, 1)"),
    ("cy", "motion", "cy (default 0.5)", "clip(cy - 0.5, -1, 1)"),
    ("dx", "motion", "dx (default 0)", "tanh(dx / 0.05)"),
    ("dy", "motion", "dy (default 0)", "tanh(dy / 0.05)"),
    ("sx", "motion", "sx (default 1)", "tanh((sx - 1) / 0.1)"),
    ("sy", "motion", "sy (default 1)", "tanh((sy - 1) / 0.1)"),
    ("decay", "motion", "fDecay (default 0.98)", "clip(1 - (1 - fDecay) / 0.2, 0, 1)"),
    ("warp_anim_speed", "motion", "fWarpAnimSpeed (default 1)", "tanh(ln(x) / ln 4)"),
    ("warp_scale", "motion", "fWarpScale (default 1)", "tanh(ln(x) / ln 4)"),
    ("zoom_exponent", "motion", "fZoomExponent (default 1)", "tanh(ln(x) / ln 2)"),
    ("wave_mode", "waves", "nWaveMode 0-7 (default 0)", "clip(mode / 7, 0, 1)"),
    ("wave_alpha", "waves", "fWaveAlpha (default 0.8)", "tanh(max(alpha, 0))"),
    ("wave_scale", "waves", "fWaveScale (default 1)", "tanh(ln(x) / ln 4)"),
    ("wave_smoothing", "waves", "fWaveSmoothing (default 0.75)", "clip01"),
    ("wave_r", "waves", "wave_r (default 1)", "clip01"),
    ("wave_g", "waves", "wave_g (default 1)", "clip01"),
    ("wave_b", "waves", "wave_b (default 1)", "clip01"),
    ("wave_additive", "waves", "bAdditiveWaves", "0/1"),
    ("wave_dots", "waves", "bWaveDots", "0/1"),
    ("wave_thick", "waves", "bWaveThick", "0/1"),
    ("wave_alpha_by_volume", "waves", "bModWaveAlphaByVolume", "0/1"),
    ("wave_maximize_color", "waves", "bMaximizeWaveColor", "0/1"),
    ("gamma", "echo_post", "fGammaAdj (default 2)", "clip(gamma / 4, 0, 1)"),
    ("echo_zoom", "echo_post", "fVideoEchoZoom (default 2)", "tanh(ln(x) / ln 2)"),
    ("echo_alpha", "echo_post", "fVideoEchoAlpha (default 0)", "clip01"),
    ("echo_orientation", "echo_post", "nVideoEchoOrientation 0-3", "clip(n / 3, 0, 1)"),
    ("brighten", "echo_post", "bBrighten", "0/1"),
    ("darken", "echo_post", "bDarken", "0/1"),
    ("solarize", "echo_post", "bSolarize", "0/1"),
    ("invert", "echo_post", "bInvert", "0/1"),
    ("darken_center", "echo_post", "bDarkenCenter", "0/1"),
    ("tex_wrap", "echo_post", "bTexWrap (default 1)", "0/1"),
    ("outer_border_size", "borders", "ob_size (default 0.01)", "tanh(max(size, 0) / 0.05)"),
    ("outer_border_alpha", "borders", "ob_a (default 0)", "clip01"),
    ("inner_border_size", "borders", "ib_size (default 0.01)", "tanh(max(size, 0) / 0.05)"),
    ("inner_border_alpha", "borders", "ib_a (default 0)", "clip01"),
    ("mv_on", "motion_vectors", "mv_a > 0 and nMotionVectorsX/Y > 0 (bMotionVectorsOn in old presets)", "0/1"),
    ("mv_density", "motion_vectors", "nMotionVectorsX * nMotionVectorsY (default 12 x 9)", "clip(sqrt(X * Y) / 48, 0, 1)"),
    ("mv_alpha", "motion_vectors", "mv_a (default 1)", "clip01"),
    ("mv_shift", "motion_vectors", "hypot(mv_dx, mv_dy)", "tanh(shift / 0.05)"),
    ("per_frame_lines", "code", "non-empty per_frame_N lines", "count, cap 128"),
    ("per_pixel_lines", "code", "non-empty per_pixel_N lines", "count, cap 128"),
    ("init_lines", "code", "non-empty per_frame_init_N lines", "count, cap 128"),
    ("waves_enabled", "code", "custom waves with wavecode_K_enabled != 0", "n / 4, clip 1"),
    ("shapes_enabled", "code", "custom shapes with shapecode_K_enabled != 0", "n / 4, clip 1"),
    ("wave_code_lines", "code", "code lines of enabled custom waves", "count, cap 128"),
    ("shape_code_lines", "code", "code lines of enabled custom shapes", "count, cap 128"),
    ("warp_shader", "code", "a non-empty warp_N shader", "0/1"),
    ("comp_shader", "code", "a non-empty comp_N shader", "0/1"),
    ("shader_lines", "code", "non-empty warp_N + comp_N lines", "count, cap 256"),
    ("uses_bass", "audio", "tokens `bass` in all code and shaders", "count, cap 32"),
    ("uses_mid", "audio", "tokens `mid`", "count, cap 32"),
    ("uses_treb", "audio", "tokens `treb`", "count, cap 32"),
    ("uses_bass_att", "audio", "tokens `bass_att`", "count, cap 32"),
    ("uses_mid_att", "audio", "tokens `mid_att`", "count, cap 32"),
    ("uses_treb_att", "audio", "tokens `treb_att`", "count, cap 32"),
    ("uses_time", "time", "tokens `time`", "count, cap 32"),
    ("uses_frame", "time", "tokens `frame` and `fps`", "count, cap 32"),
    ("uses_trig", "time", "tokens `sin` and `cos`", "count, cap 32"),
    (
        "dynamic_motion",
        "time",
        "which of zoom rot warp cx cy dx dy sx sy decay are assigned in per_frame/per_pixel code",
        "n / 10",
    ),
    ("milkdrop2", "code", "MILKDROP_PRESET_VERSION >= 200 or PSVERSION >= 2 (MilkDrop 2 features)", "0/1"),
]

# Base values the vector reads, in the order features.py unpacks them, with MilkDrop's defaults.
BASE_DEFAULTS = (
    ("zoom", 1.0), ("rot", 0.0), ("warp", 1.0), ("cx", 0.5), ("cy", 0.5), ("dx", 0.0), ("dy", 0.0),
    ("sx", 1.0), ("sy", 1.0), ("fdecay", 0.98), ("fwarpanimspeed", 1.0), ("fwarpscale", 1.0),
    ("fzoomexponent", 1.0), ("nwavemode", 0.0), ("fwavealpha", 0.8), ("fwavescale", 1.0),
    ("fwavesmoothing", 0.75), ("wave_r", 1.0), ("wave_g", 1.0), ("wave_b", 1.0), ("badditivewaves", 0.0),
    ("bwavedots", 0.0), ("bwavethick", 0.0), ("bmodwavealphabyvolume", 0.0), ("bmaximizewavecolor", 0.0),
    ("fgammaadj", 2.0), ("fvideoechozoom", 2.0), ("fvideoechoalpha", 0.0), ("nvideoechoorientation", 0.0),
    ("bbrighten", 0.0), ("bdarken", 0.0), ("bsolarize", 0.0), ("binvert", 0.0), ("bdarkencenter", 0.0),
    ("btexwrap", 1.0), ("ob_size", 0.01), ("ob_a", 0.0), ("ib_size", 0.01), ("ib_a", 0.0),
    ("nmotionvectorsx", 12.0), ("nmotionvectorsy", 9.0), ("mv_a", 1.0), ("mv_dx", 0.0), ("mv_dy", 0.0),
    ("bmotionvectorson", 1.0), ("milkdrop_preset_version", 0.0), ("psversion", 0.0),
    ("wavecode_0_enabled", 0.0), ("wavecode_1_enabled", 0.0), ("wavecode_2_enabled", 0.0), ("wavecode_3_enabled", 0.0),
    ("shapecode_0_enabled", 0.0), ("shapecode_1_enabled", 0.0), ("shapecode_2_enabled", 0.0), ("shapecode_3_enabled", 0.0),
)  # fmt: skip

FEATURE_NAMES: list[str] = [row[0] for row in FEATURE_SPEC]
FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURE_NAMES)}
assert len(FEATURE_NAMES) == FEATURE_DIM and len(set(FEATURE_NAMES)) == FEATURE_DIM
