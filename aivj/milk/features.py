"""The fixed 64-dim float32 preset vector, pair-level terms computed from two vectors, style tags.

Dimensions, sources and normalisations are listed in ``feature_spec`` and docs/features.md.
Bump ``FEATURE_VERSION`` whenever a dimension's meaning or scaling changes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from contextlib import contextmanager
from itertools import compress

import numpy as np

from aivj.compiled import compiled
from aivj.milk import parser
from aivj.milk.feature_spec import BASE_DEFAULTS as _BASE_DEFAULTS
from aivj.milk.feature_spec import (
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURE_SPEC,
    FEATURE_VERSION,
)
from aivj.milk.lines import _CODE, _NUMBERED, _ROUTES
from aivj.milk.parser import MilkPreset
from aivj.milk.values import as_float as _as_float

__all__ = ["FEATURE_VERSION", "FEATURE_NAMES", "FEATURE_SPEC", "extract_features", "code_line_counts"]

# Audio/time tokens are counted as substrings of the lower-cased code (str.count is ~4x faster than
# a regex here); ``bass`` excludes ``bass_att``. See docs/features.md for the caveats.
_TOKEN_WORDS = ("bass_att", "mid_att", "treb_att", "bass", "mid", "treb", "time", "frame", "fps", "sin", "cos")
_EQUATIONS = frozenset({"per_frame", "per_pixel"})
_WARP, _COMP = frozenset({"warp"}), frozenset({"comp"})  # str.__eq__(None) is NotImplemented (truthy)
_MOTION_NAMES = ("zoom", "rot", "warp", "cx", "cy", "dx", "dy", "sx", "sy", "decay")
# A statement that starts with a motion name and "=" ("==" is a comparison): one regex pass.
_ASSIGNMENT = re.compile(rf"\n({'|'.join(_MOTION_NAMES)})=(=?)")
_WAVE_CATEGORIES = tuple(f"wave{k}" for k in range(4))
_SHAPE_CATEGORIES = tuple(f"shape{k}" for k in range(4))
_LN4, _LN2 = math.log(4.0), math.log(2.0)
_tanh, _log = math.tanh, math.log


# Category numbers of the compiled counts (aivj/milk/_milkcount.c relies on this order).
_CATEGORIES = ("per_frame_init", "per_frame", "per_pixel", "warp", "comp", *_WAVE_CATEGORIES, *_SHAPE_CATEGORIES)


def _code_categories() -> dict[str, str]:
    """Code key -> category ("per_frame", "warp", "wave2", "shape0", ...), from the parser's table."""
    out = {}
    for key, route in _ROUTES.items():
        if route[0] == _NUMBERED:
            out[key] = route[1]
        elif route[0] == _CODE:
            out[key] = f"{route[1]}{route[2]}"
    return out


_CATEGORY = _code_categories()
_CATEGORY_NUMBER = {category: number for number, category in enumerate(_CATEGORIES)}
_CATEGORY_ID = {key: _CATEGORY_NUMBER[category] for key, category in _CATEGORY.items()}
_CUSTOM_CODE = sum(1 << _CATEGORY_NUMBER[c] for c in _WAVE_CATEGORIES + _SHAPE_CATEGORIES)  # bits 5-12


# The C version of ``_code_counts_python``, or None (not built, or AIVJ_PURE_PYTHON=1). It returns None
# for code beyond Latin-1 (then _code_counts_python runs). pure_python() sets it to None.
compiled_counts = compiled("aivj.milk._milkcount", "counts")


@contextmanager
def pure_python():
    """Parse and extract features with the pure-Python fallback only, as when the C parts are not built
    (tests compare the two; benchmarks/bench_features.py times both)."""
    global compiled_counts
    saved = parser.compiled_scan, compiled_counts
    parser.compiled_scan = compiled_counts = None
    try:
        yield
    finally:
        parser.compiled_scan, compiled_counts = saved


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else (hi if x > hi else x)


def _logsq(x: float, ln_base: float) -> float:
    return _tanh(_log(x if x > 1e-6 else 1e-6) / ln_base)


def _count(n: int, cap: int) -> float:
    return min(1.0, math.log1p(n) / math.log1p(cap))


# _count for every n below the cap, precomputed with the same expression (so the same floats); 1.0 above.
_COUNT32 = tuple(_count(n, 32) for n in range(32))
_COUNT128 = tuple(_count(n, 128) for n in range(128))
_COUNT256 = tuple(_count(n, 256) for n in range(256))


def _count32(n: int) -> float:
    return _COUNT32[n] if n < 32 else 1.0


def _count128(n: int) -> float:
    return _COUNT128[n] if n < 128 else 1.0


def _count256(n: int) -> float:
    return _COUNT256[n] if n < 256 else 1.0


def _flag(v: float) -> float:
    return 1.0 if v != 0.0 else 0.0


_BASE_KEYS = tuple(k for k, _ in _BASE_DEFAULTS)
_DEFAULT_TEXT = tuple(repr(d) for _, d in _BASE_DEFAULTS)
_DEFAULTS = tuple(d for _, d in _BASE_DEFAULTS)
_INF = float("inf")


def _base_values(get) -> list[float]:
    """All ``_BASE_DEFAULTS`` as finite floats; C-level ``float`` first, the tolerant reader on error."""
    raw = list(map(get, _BASE_KEYS, _DEFAULT_TEXT))
    try:
        values = list(map(float, raw))
    except ValueError:
        return [_as_float(r, d) for r, d in zip(raw, _DEFAULTS)]
    if not math.isfinite(sum(values)):  # rare: a nan/inf (or a huge value) somewhere
        return [d if (v != v or v == _INF or v == -_INF) else v for v, d in zip(values, _DEFAULTS)]
    return values


def _assigned(equations: str) -> int:
    """How many motion names are assigned at the start of a statement (``zoom = ...``, not ``==``)."""
    text = "\n" + equations.replace(" ", "").replace("\t", "").replace(";", "\n")
    return len({name for name, compare in _ASSIGNMENT.findall(text) if not compare})


def code_line_counts(entries: dict[str, str]) -> Counter:
    """Non-empty code lines per category ("per_frame", "warp", "wave2", ...): ``counts["warp"]``."""
    return Counter(filter(None, compress(map(_CATEGORY.get, entries), entries.values())))


def _lines_except_backtick(lines: list[str]) -> int:
    return len(lines) - lines.count("`")


def _code_counts_python(entries: dict[str, str], skip: int) -> tuple:
    """(non-empty code lines per ``_CATEGORIES``, warp shader lines, comp shader lines, ``_TOKEN_WORDS``
    counts in the code of all but the categories in the bit mask ``skip``, motion names assigned);
    ``_milkcount.counts`` is the same in C."""
    # Category of every key ("per_frame", "warp", "wave2", ... or None for values); C-level passes only.
    values = list(entries.values())
    cats = list(map(_CATEGORY.get, entries))
    counts = Counter(filter(None, compress(cats, values)))  # non-empty code lines per category
    # Shader values keep their backtick, so an empty shader line is "`" (an empty value still counts).
    warp_lines = counts["warp"] and _lines_except_backtick(list(compress(values, map(_WARP.__contains__, cats))))
    comp_lines = counts["comp"] and _lines_except_backtick(list(compress(values, map(_COMP.__contains__, cats))))
    disabled = {c for c in counts if skip >> _CATEGORY_NUMBER[c] & 1}  # custom code that is off
    if disabled:
        text = "\n".join(compress(values, [c is not None and c not in disabled for c in cats])).lower()
    else:
        text = "\n".join(compress(values, cats)).lower()
    equations = "\n".join(compress(values, map(_EQUATIONS.__contains__, cats))).lower()
    tokens = tuple(text.count(w) for w in _TOKEN_WORDS)
    return tuple(counts[c] for c in _CATEGORIES), warp_lines, comp_lines, tokens, _assigned(equations)


def extract_features(preset: MilkPreset) -> np.ndarray:
    """float32[64] in the order of ``FEATURE_NAMES``; always finite."""
    entries = preset.entries()
    (zoom, rot, warp, cx, cy, dx, dy, sx, sy, decay, warp_speed, warp_scale, zoom_exp, wave_mode, wave_alpha,
     wave_scale, wave_smooth, wave_r, wave_g, wave_b, additive, dots, thick, alpha_by_vol, max_color,
     gamma, echo_zoom, echo_alpha, echo_orient, brighten, darken, solarize, invert, darken_center,
     tex_wrap, ob_size, ob_a, ib_size, ib_a, mvx, mvy, mv_a, mv_dx, mv_dy, mv_switch, version, psversion,
     *enabled) = _base_values(entries.get)  # fmt: skip
    waves = [k for k in range(4) if enabled[k]]  # enabled holds floats: 0.0 is off
    shapes = [k for k in range(4) if enabled[4 + k]]
    # Custom waves and shapes that are off: their code is left out of the token counts.
    skip = _CUSTOM_CODE ^ sum(1 << (5 + k) for k in waves) ^ sum(1 << (9 + k) for k in shapes)
    counted = compiled_counts(entries, _CATEGORY_ID, skip) if compiled_counts is not None else None
    lines, warp_lines, comp_lines, tok, assigned = counted or _code_counts_python(entries, skip)
    wave_lines = sum(lines[5 + k] for k in waves)
    shape_lines = sum(lines[9 + k] for k in shapes)
    (bass_att, mid_att, treb_att, bass, mid, treb, time, frame, fps, sin, cos) = tok
    mv_on = mv_a > 0 and mvx > 0 and mvy > 0 and mv_switch != 0
    row = [
        _tanh(_log(max(zoom, 1e-6)) / 0.2),
        _tanh(rot / 0.5),
        _tanh(warp / 3.0),
        _clip(cx - 0.5, -1.0, 1.0),
        _clip(cy - 0.5, -1.0, 1.0),
        _tanh(dx / 0.05),
        _tanh(dy / 0.05),
        _tanh((sx - 1.0) / 0.1),
        _tanh((sy - 1.0) / 0.1),
        _clip01(1.0 - (1.0 - decay) / 0.2),
        _logsq(warp_speed, _LN4),
        _logsq(warp_scale, _LN4),
        _logsq(zoom_exp, _LN2),
        _clip01(wave_mode / 7.0),
        _tanh(max(wave_alpha, 0.0)),
        _logsq(wave_scale, _LN4),
        _clip01(wave_smooth),
        _clip01(wave_r),
        _clip01(wave_g),
        _clip01(wave_b),
        _flag(additive),
        _flag(dots),
        _flag(thick),
        _flag(alpha_by_vol),
        _flag(max_color),
        _clip01(gamma / 4.0),
        _logsq(echo_zoom, _LN2),
        _clip01(echo_alpha),
        _clip01(echo_orient / 3.0),
        _flag(brighten),
        _flag(darken),
        _flag(solarize),
        _flag(invert),
        _flag(darken_center),
        _flag(tex_wrap),
        _tanh(max(ob_size, 0.0) / 0.05),
        _clip01(ob_a),
        _tanh(max(ib_size, 0.0) / 0.05),
        _clip01(ib_a),
        1.0 if mv_on else 0.0,
        _clip01(math.sqrt(max(mvx, 0.0) * max(mvy, 0.0)) / 48.0),
        _clip01(mv_a),
        _tanh(math.hypot(mv_dx, mv_dy) / 0.05),
        _count128(lines[1]),
        _count128(lines[2]),
        _count128(lines[0]),
        min(1.0, len(waves) / 4.0),
        min(1.0, len(shapes) / 4.0),
        _count128(wave_lines),
        _count128(shape_lines),
        1.0 if warp_lines else 0.0,
        1.0 if comp_lines else 0.0,
        _count256(warp_lines + comp_lines),
        _count32(bass - bass_att),
        _count32(mid - mid_att),
        _count32(treb - treb_att),
        _count32(bass_att),
        _count32(mid_att),
        _count32(treb_att),
        _count32(time),
        _count32(frame + fps),
        _count32(sin + cos),
        assigned / 10.0,
        1.0 if (version >= 200 or psversion >= 2) else 0.0,
    ]
    if not math.isfinite(sum(row)):  # inputs are finite and clamped; this guards the math itself
        return np.nan_to_num(np.array(row, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.array(row, dtype=np.float32)


assert FEATURE_INDEX["milkdrop2"] == 63
