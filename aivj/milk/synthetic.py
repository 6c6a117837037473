"""Synthetic but realistic ``.milk`` presets (MilkDrop 2 layout, ~200 lines) for tests and benchmarks.

Built as a ``MilkPreset`` from varied parameters and written with ``to_text``, so they exercise
the writer too. Deterministic for a given seed.
"""

from __future__ import annotations

import random

from aivj.milk.parser import MilkPreset
from aivj.milk.sections import CustomCode

_WAVE_DEFAULTS = {"enabled": "0", "samples": "512", "sep": "0", "bspectrum": "0", "busedots": "0", "bdrawthick": "0",
                  "badditive": "0", "scaling": "1.0", "smoothing": "0.5", "r": "1.0", "g": "1.0", "b": "1.0", "a": "1.0"}  # fmt: skip
_SHAPE_DEFAULTS = {"enabled": "0", "sides": "4", "additive": "0", "thickoutline": "0", "textured": "0", "num_inst": "1",
                   "x": "0.5", "y": "0.5", "rad": "0.1", "ang": "0.0", "tex_ang": "0.0", "tex_zoom": "1.0", "r": "1.0",
                   "g": "0.0", "b": "0.0", "a": "1.0", "r2": "0.0", "g2": "1.0", "b2": "0.0", "a2": "0.0",
                   "border_r": "1.0", "border_g": "1.0", "border_b": "1.0", "border_a": "0.1"}  # fmt: skip
_AUDIO = ("bass", "mid", "treb", "bass_att", "mid_att", "treb_att")


def _f(x: float) -> str:
    return f"{x:.6f}"


def synthetic_preset(seed: int, **overrides: float) -> MilkPreset:
    """A preset with random motion/wave/echo values; ``overrides`` set base keys (lower-case)."""
    rng = random.Random(seed)
    p = MilkPreset()
    p.header.update({"milkdrop_preset_version": "201", "psversion": "2", "psversion_warp": "2", "psversion_comp": "2"})
    base = {
        "frating": 5.0, "fgammaadj": rng.uniform(1, 3), "fdecay": rng.uniform(0.85, 1.0), "fvideoechozoom": rng.uniform(0.9, 2),
        "fvideoechoalpha": rng.choice([0, 0, rng.random()]), "nvideoechoorientation": rng.randrange(4),
        "nwavemode": rng.randrange(8), "badditivewaves": rng.randrange(2), "bwavedots": rng.randrange(2),
        "bwavethick": rng.randrange(2), "bmodwavealphabyvolume": rng.randrange(2), "bmaximizewavecolor": rng.randrange(2),
        "btexwrap": rng.randrange(2), "bdarkencenter": rng.randrange(2), "bbrighten": 0, "bdarken": rng.randrange(2),
        "bsolarize": 0, "binvert": 0, "fwavealpha": rng.uniform(0, 1.5), "fwavescale": rng.uniform(0.1, 3),
        "fwavesmoothing": rng.random(), "fwarpanimspeed": rng.uniform(0.2, 3), "fwarpscale": rng.uniform(0.2, 3),
        "fzoomexponent": rng.uniform(0.5, 2), "zoom": rng.uniform(0.7, 1.4), "rot": rng.uniform(-0.6, 0.6),
        "cx": rng.uniform(0.3, 0.7), "cy": rng.uniform(0.3, 0.7), "dx": rng.uniform(-0.05, 0.05), "dy": rng.uniform(-0.05, 0.05),
        "warp": rng.uniform(0.01, 6), "sx": rng.uniform(0.9, 1.1), "sy": rng.uniform(0.9, 1.1),
        "wave_r": rng.random(), "wave_g": rng.random(), "wave_b": rng.random(), "wave_x": 0.5, "wave_y": 0.5,
        "ob_size": rng.uniform(0, 0.05), "ob_a": rng.random(), "ib_size": rng.uniform(0, 0.05), "ib_a": rng.random(),
        "nmotionvectorsx": rng.randrange(0, 64), "nmotionvectorsy": rng.randrange(0, 48), "mv_a": rng.random(),
    }  # fmt: skip
    base.update(overrides)
    p.base.update({k: _f(v) if isinstance(v, float) else str(v) for k, v in base.items()})
    for k in range(4):
        p.waves[k] = CustomCode({**_WAVE_DEFAULTS, "enabled": str(int(rng.random() < 0.3))})
        p.shapes[k] = CustomCode({**_SHAPE_DEFAULTS, "enabled": str(int(rng.random() < 0.3))})
        if p.waves[k].enabled:
            p.waves[k].code["per_point"] = [
                f"x = 0.5 + 0.3*sin(sample*{rng.randint(1, 9)} + time); y = 0.5 + {rng.choice(_AUDIO)}*0.1;"
            ]
        if p.shapes[k].enabled:
            p.shapes[k].code["per_frame"] = [f"ang = time*{rng.uniform(0.1, 2):.3f}; rad = 0.1 + {rng.choice(_AUDIO)}*0.05;"]
    n = rng.randint(3, 40)
    p.per_frame_init = [f"q{i + 1} = {rng.random():.3f};" for i in range(rng.randint(0, 4))]
    p.per_frame = [
        f"{rng.choice(['zoom', 'rot', 'cx', 'cy', 'warp', 'q1', 'q2', 'wave_r'])} = {rng.choice(['zoom', 'rot', 'q1'])} + "
        f"{rng.uniform(0.001, 0.1):.4f}*{rng.choice(['sin', 'cos'])}(time*{rng.uniform(0.1, 3):.3f}) + {rng.choice(_AUDIO)}*0.01;"
        for _ in range(n)
    ]  # fmt: skip
    p.per_pixel = [f"zoom = zoom + 0.01*sin(rad*{rng.randint(1, 20)} + time);" for _ in range(rng.randint(0, 8))]
    if rng.random() < 0.5:
        p.warp = [
            "shader_body {",
            "   ret = tex2D(sampler_main, uv).xyz;",
            f"   ret *= {rng.uniform(0.9, 1):.3f} + 0.02*bass;",
            "}",
        ]
        p.comp = ["shader_body {", "   ret = tex2D(sampler_main, uv).xyz * 1.2;", "}"]
    return p
