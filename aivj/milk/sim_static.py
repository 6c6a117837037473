"""The read-only part of the ``sim_*`` vector: custom waves/shapes and shader-text signals.

Shader signals are regular expressions over the warp/comp HLSL: a warp shader's ``ret *= c`` or
``ret -= c`` is the MilkDrop 2 way to set decay; a comp shader's ``1 - ret`` inverts, ``ret *= c``
scales brightness, ``GetBlur``/``hue``/``lum`` mark glow and colour work. docs/features.md.
"""

from __future__ import annotations

import math
import re

from aivj.milk.parser import MilkPreset
from aivj.milk.values import as_float

STATIC_NAMES = (
    "sim_waves_on", "sim_waves_lum", "sim_waves_additive", "sim_waves_dots", "sim_shapes_on", "sim_shapes_area",
    "sim_shapes_additive", "sim_shapes_textured", "sim_shapes_border", "sim_has_warp_shader", "sim_has_comp_shader",
    "sim_warp_ret_mul", "sim_warp_ret_sub", "sim_comp_ret_mul", "sim_comp_invert", "sim_comp_blur", "sim_comp_colour",
    "sim_comp_lines", "sim_warp_lines",
)  # fmt: skip

_NUM = r"(-?\d*\.?\d+)"
_RET_MUL = re.compile(r"ret(?:\.[rgbxyz]+)?\s*\*=\s*" + _NUM + r"|ret\s*=\s*ret(?:\.[rgbxyz]+)?\s*\*\s*" + _NUM)
_RET_SUB = re.compile(r"ret(?:\.[rgbxyz]+)?\s*-=\s*" + _NUM + r"|ret\s*=\s*ret(?:\.[rgbxyz]+)?\s*-\s*" + _NUM)
_INVERT = re.compile(r"1\.?0*\s*-\s*ret\b|1\.?0*\s*-\s*\(?\s*tex2d\s*\(\s*sampler_main")
_BLUR = re.compile(r"getblur\d|sampler_blur")
_COLOUR = re.compile(r"\bhue|\blum\s*\(|\bsaturate\b|rgb2hsv|hsv2rgb")


def _constants(pattern: re.Pattern, text: str) -> list[float]:
    out = []
    for m in pattern.finditer(text):
        value = next((g for g in m.groups() if g is not None), None)
        number = as_float(value, math.nan)
        if math.isfinite(number):
            out.append(number)
    return out


def _customs(preset: MilkPreset) -> list[float]:
    waves = [w.params for w in preset.waves.values() if as_float(w.params.get("enabled"), 0.0) != 0]
    shapes = [s.params for s in preset.shapes.values() if as_float(s.params.get("enabled"), 0.0) != 0]
    f = lambda p, k, d: as_float(p.get(k), d)  # noqa: E731
    bright = lambda p, a: (
        min(1.0, max(0.0, f(p, a, 1.0))) * min(1.0, max(0.0, max(f(p, "r", 1.0), f(p, "g", 1.0), f(p, "b", 1.0))))
    )  # noqa: E731
    area = 0.0
    for p in shapes:
        rad, inst = min(2.0, abs(f(p, "rad", 0.1))), min(64.0, max(1.0, f(p, "num_inst", 1.0)))
        alpha = 0.5 * (min(1.0, max(0.0, f(p, "a", 1.0))) + min(1.0, max(0.0, f(p, "a2", 0.0))))
        area += alpha * rad * rad * inst
    return [
        len(waves), sum(bright(p, "a") for p in waves), sum(f(p, "badditive", 0) != 0 for p in waves),
        sum(f(p, "busedots", 0) != 0 for p in waves), len(shapes), math.log1p(area), sum(f(p, "additive", 0) != 0 for p in shapes),
        sum(f(p, "textured", 0) != 0 for p in shapes), sum(min(1.0, max(0.0, f(p, "border_a", 0.0))) for p in shapes),
    ]  # fmt: skip


def _shaders(preset: MilkPreset) -> list[float]:
    warp, comp = "\n".join(preset.warp).lower(), "\n".join(preset.comp).lower()
    warp_mul, warp_sub = _constants(_RET_MUL, warp), _constants(_RET_SUB, warp)
    comp_mul = _constants(_RET_MUL, comp)
    return [
        float(bool(warp.strip())), float(bool(comp.strip())), min(warp_mul, default=1.0), max(warp_sub, default=0.0),
        min(comp_mul, default=1.0), float(bool(_INVERT.search(comp))), float(bool(_BLUR.search(comp))),
        float(bool(_COLOUR.search(comp))), math.log1p(len(preset.comp)), math.log1p(len(preset.warp)),
    ]  # fmt: skip


def static_features(preset: MilkPreset) -> list[float]:
    try:
        return [float(x) for x in _customs(preset) + _shaders(preset)]
    except Exception:  # noqa: BLE001 - never fail the whole vector on odd parameter text
        return [0.0] * len(STATIC_NAMES)
