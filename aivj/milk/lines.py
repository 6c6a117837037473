"""Route a preset's ``key=value`` lines to the fields they belong to (the parser's inner loop).

Every common key (base values, ``per_frame_N`` up to N = 2000, custom wave/shape values and code
for waves/shapes 0-3) is looked up in one precomputed table, so the loop does one dict lookup per
line; only unusual keys take the slow path. The benchmark asks for >= 5,000 presets/s on one core.
"""

from __future__ import annotations

from aivj.milk.sections import (
    HEADER_KEYS,
    KNOWN_BASE_KEYS,
    SHAPE_CODE_SECTIONS,
    WAVE_CODE_SECTIONS,
    CustomCode,
)

_BASE, _HEADER, _NUMBERED, _PARAM, _CODE = range(5)
_NUMBERED_PREFIXES = (
    ("per_frame_init_", "per_frame_init"),
    ("per_frame_", "per_frame"),
    ("per_pixel_", "per_pixel"),
    ("warp_", "warp"),
    ("comp_", "comp"),
)
_WAVE_PARAMS = "enabled samples sep bspectrum busedots bdrawthick badditive scaling smoothing r g b a".split()
_SHAPE_PARAMS = (
    "enabled sides additive thickoutline textured num_inst x y rad ang tex_ang tex_zoom r g b a r2 g2 b2 a2 "
    "border_r border_g border_b border_a"
).split()


def _build_routes() -> dict[str, tuple]:
    routes: dict[str, tuple] = {k: (_BASE,) for k in KNOWN_BASE_KEYS}
    routes.update({k: (_HEADER,) for k in HEADER_KEYS})
    for prefix, name in _NUMBERED_PREFIXES:
        routes.update({f"{prefix}{n}": (_NUMBERED, name, n) for n in range(2001)})
    for index in range(4):
        for kind, params, sections in (("wave", _WAVE_PARAMS, WAVE_CODE_SECTIONS), ("shape", _SHAPE_PARAMS, SHAPE_CODE_SECTIONS)):
            routes.update({f"{kind}code_{index}_{p}": (_PARAM, kind, index, p) for p in params})
            for section in sections:
                routes.update({f"{kind}_{index}_{section}{n}": (_CODE, kind, index, section, n) for n in range(501)})
    return routes


_ROUTES = _build_routes()


def is_known_key(key: str) -> bool:
    """A base value, header key or code line MilkDrop reads."""
    return key in _ROUTES or _slow_route(key) is not None


def route_lines(preset, keys: list[str], values: list[str]) -> int:
    """Fill ``preset``'s structure from lower-cased keys and stripped values; returns the known count."""
    numbered: dict[str, dict[int, str]] = {"per_frame_init": {}, "per_frame": {}, "per_pixel": {}, "warp": {}, "comp": {}}
    custom: dict[tuple, dict[int, str]] = {}
    base, header, get = preset.base, preset.header, _ROUTES.get
    known = 0
    for key, value in zip(keys, values):
        route = get(key)
        if route is None:
            route = _slow_route(key)
            if route is None:
                if key:
                    base[key] = value
                continue
        known += 1
        kind = route[0]
        if kind == _BASE:
            base[key] = value
        elif kind == _NUMBERED:
            numbered[route[1]][route[2]] = value
        elif kind == _PARAM:
            target = preset.waves if route[1] == "wave" else preset.shapes
            custom_code = target.get(route[2])
            if custom_code is None:
                custom_code = target[route[2]] = CustomCode()
            custom_code.params[route[3]] = value
        elif kind == _CODE:
            lines = custom.get(route[1:4])
            if lines is None:
                lines = custom[route[1:4]] = {}
            lines[route[4]] = value
        else:
            header[key] = value
    for name, lines in numbered.items():
        if lines:
            ordered = [lines[n] for n in sorted(lines)]
            if name in ("warp", "comp"):  # shader lines carry a backtick so INI readers keep spaces
                ordered = [line[1:] if line.startswith("`") else line for line in ordered]
            setattr(preset, name, ordered)
    for (kind, index, section), lines in custom.items():
        target = preset.waves if kind == "wave" else preset.shapes
        target.setdefault(index, CustomCode()).code[section] = [lines[n] for n in sorted(lines)]
    return known


def _slow_route(key: str) -> tuple | None:
    """Keys outside the table: big line numbers, custom waves/shapes >= 4, unlisted params."""
    for prefix, name in _NUMBERED_PREFIXES:
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            return (_NUMBERED, name, int(rest)) if rest.isdigit() else None
    for kind, sections in (("wave", WAVE_CODE_SECTIONS), ("shape", SHAPE_CODE_SECTIONS)):
        if key.startswith(f"{kind}code_"):
            index, _, param = key[len(kind) + 5 :].partition("_")
            return (_PARAM, kind, int(index), param) if index.isdigit() and param else None
        if key.startswith(f"{kind}_"):
            index, _, tail = key[len(kind) + 1 :].partition("_")
            if index.isdigit():
                for section in sections:
                    number = tail[len(section) :]
                    if tail.startswith(section) and number.isdigit():
                        return (_CODE, kind, int(index), section, int(number))
    return None
