"""The vocabulary of a .milk file: header keys, base keys, custom wave/shape code sections.

The parser, the line router (lines.py) and the writer all read it; it imports nothing of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aivj.milk.values import as_float as _as_float

# Keys that only appear before [preset00].
HEADER_KEYS = frozenset({"milkdrop_preset_version", "psversion", "psversion_warp", "psversion_comp"})

# Base keys MilkDrop 1.x/2.x know; a file without a section must contain at least one of these
# (or a code line) to count as a preset.
KNOWN_BASE_KEYS = frozenset(
    """frating fgammaadj fdecay fvideoechozoom fvideoechoalpha nvideoechoorientation nwavemode
    badditivewaves bwavedots bwavethick bmodwavealphabyvolume bmaximizewavecolor btexwrap
    bdarkencenter bredbluestereo bbrighten bdarken bsolarize binvert fwavealpha fwavescale
    fwavesmoothing fwaveparam fmodwavealphastart fmodwavealphaend fwarpanimspeed fwarpscale
    fzoomexponent fshader zoom rot cx cy dx dy warp sx sy wave_r wave_g wave_b wave_x wave_y
    ob_size ob_r ob_g ob_b ob_a ib_size ib_r ib_g ib_b ib_a nmotionvectorsx nmotionvectorsy
    mv_dx mv_dy mv_l mv_r mv_g mv_b mv_a bmotionvectorson b1n b2n b3n b1x b2x b3x b1ed""".split()
)

WAVE_CODE_SECTIONS = ("init", "per_frame", "per_point")
SHAPE_CODE_SECTIONS = ("init", "per_frame")


@dataclass
class CustomCode:
    """One custom wave or shape: its ``wavecode_K_*``/``shapecode_K_*`` values and code lines."""

    params: dict[str, str] = field(default_factory=dict)  # lower-cased suffix -> value
    code: dict[str, list[str]] = field(default_factory=dict)  # "init"/"per_frame"/"per_point" -> lines

    @property
    def enabled(self) -> bool:
        return _as_float(self.params.get("enabled"), 0.0) != 0.0
