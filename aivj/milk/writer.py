"""Write a ``MilkPreset`` back to ``.milk`` text in MilkDrop 2's section order.

Code lines are renumbered 1..n (MilkDrop stops reading at the first gap, so writing them
consecutively can only make a preset more faithful). ``parse_milk(p.to_text())`` has the same
``semantic()`` as ``p``.
"""

from __future__ import annotations

from aivj.milk.sections import HEADER_KEYS, SHAPE_CODE_SECTIONS, WAVE_CODE_SECTIONS

_HEADER_ORDER = ("milkdrop_preset_version", "psversion", "psversion_warp", "psversion_comp")
# MilkDrop 2's own spelling, used for keys created in code (parsed keys keep the file's spelling).
_CANONICAL = {
    k.lower(): k
    for k in """MILKDROP_PRESET_VERSION PSVERSION PSVERSION_WARP PSVERSION_COMP fRating fGammaAdj fDecay
    fVideoEchoZoom fVideoEchoAlpha nVideoEchoOrientation nWaveMode bAdditiveWaves bWaveDots bWaveThick
    bModWaveAlphaByVolume bMaximizeWaveColor bTexWrap bDarkenCenter bRedBlueStereo bBrighten bDarken
    bSolarize bInvert fWaveAlpha fWaveScale fWaveSmoothing fWaveParam fModWaveAlphaStart
    fModWaveAlphaEnd fWarpAnimSpeed fWarpScale fZoomExponent fShader nMotionVectorsX nMotionVectorsY
    bMotionVectorsOn""".split()
}
_PARAM_CANONICAL = {
    "bspectrum": "bSpectrum",
    "busedots": "bUseDots",
    "bdrawthick": "bDrawThick",
    "badditive": "bAdditive",
    "thickoutline": "thickOutline",
}


def preset_to_text(preset) -> str:
    header = [f"{key}={value}" for key, value in _header_lines(preset)]
    body = [f"{key}={value}" for key, value in _body_lines(preset)]
    return "\n".join(header + [f"[{preset.section or 'preset00'}]"] + body) + "\n"


def preset_lines(preset):
    """(key as written, value) for every line of the preset, header first."""
    yield from _header_lines(preset)
    yield from _body_lines(preset)


def _header_lines(preset):
    case = preset.key_case
    for key in _HEADER_ORDER:
        if key in preset.header:
            yield case.get(key) or _CANONICAL.get(key, key.upper()), preset.header[key]
    for key, value in preset.header.items():
        if key not in HEADER_KEYS:
            yield case.get(key, key), value


def _body_lines(preset):
    case = preset.key_case
    for k, v in preset.base.items():
        yield case.get(k) or _CANONICAL.get(k, k), v
    for kind, items, sections in (("wave", preset.waves, WAVE_CODE_SECTIONS), ("shape", preset.shapes, SHAPE_CODE_SECTIONS)):
        for index in sorted(items):
            custom = items[index]
            for param, value in custom.params.items():
                full = f"{kind}code_{index}_{param}"
                yield case.get(full) or f"{kind}code_{index}_{_PARAM_CANONICAL.get(param, param)}", value
            for section in sections:
                for n, line in enumerate(custom.code.get(section, ()), 1):
                    yield f"{kind}_{index}_{section}{n}", line
    for name in ("per_frame_init", "per_frame", "per_pixel"):
        for n, line in enumerate(getattr(preset, name), 1):
            yield f"{name}_{n}", line
    for name in ("warp", "comp"):
        for n, line in enumerate(getattr(preset, name), 1):
            yield f"{name}_{n}", f"`{line}"
