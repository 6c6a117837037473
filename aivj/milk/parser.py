"""Parse MilkDrop ``.milk`` presets (MILKDROP_PRESET_VERSION 201 and older) and write them back.

A preset is an INI-like file: an optional header (``MILKDROP_PRESET_VERSION=201``, ``PSVERSION*``),
a ``[preset00]`` section of ``key=value`` base values, numbered code lines (``per_frame_init_N``,
``per_frame_N``, ``per_pixel_N``), custom waves (``wavecode_K_*`` values, ``wave_K_init|per_frame|
per_pointN`` code), custom shapes (``shapecode_K_*``, ``shape_K_init|per_frameN``) and shader lines
(``warp_N`` / ``comp_N``, each value prefixed with a backtick).

MilkDrop reads keys case-insensitively, so keys are stored lower-cased; the original spelling is
kept only so that ``to_text`` writes what projectM and MilkDrop expect. Duplicate keys: the last
one wins (as in MilkDrop's INI reader) and each repeat is counted in ``duplicate_keys``.

The tokenizer (text -> keys and values) runs compiled when the optional C extension
``aivj.milk._milkscan`` is built (setup.py; ~3x faster than the Python tokenizer) and in pure Python
otherwise, or when ``AIVJ_PURE_PYTHON=1`` is set: both give the same results (tests/test_milk_scan.py).
"""

from __future__ import annotations

from aivj.compiled import compiled
from aivj.milk.lines import is_known_key, route_lines
from aivj.milk.sections import CustomCode
from aivj.milk.values import as_float as _as_float
from aivj.milk.values import decode_milk
from aivj.milk.writer import preset_lines, preset_to_text


class MilkParseError(ValueError):
    """A file that is not a MilkDrop preset; the message names the file and the problem."""


_STRUCTURE = ("header", "base", "per_frame_init", "per_frame", "per_pixel", "waves", "shapes", "warp", "comp")


class MilkPreset:
    """A parsed preset. Parsing only builds ``entries`` (lower-cased key -> value, last wins); the
    structured fields (``header``, ``base``, code lists, ``waves``, ``shapes``, ``warp``, ``comp``)
    are built on first access, because feature extraction reads ``entries`` directly and is the
    hot path. After the structure has been built it is the truth: edit it and ``entries()`` and
    ``to_text()`` follow.
    """

    header: dict[str, str]
    base: dict[str, str]
    per_frame_init: list[str]
    per_frame: list[str]
    per_pixel: list[str]
    waves: dict[int, CustomCode]
    shapes: dict[int, CustomCode]
    warp: list[str]  # shader lines without the leading backtick
    comp: list[str]

    def __init__(self, entries: dict[str, str] | None = None, path: str | None = None, section: str | None = "preset00",
                 duplicate_keys: int = 0, key_case: dict[str, str] | tuple[list[str], list[str]] | None = None) -> None:  # fmt: skip
        self._entries = entries if entries is not None else {}
        self.path = path
        self.section = section
        self.duplicate_keys = duplicate_keys
        self._key_case = key_case if key_case is not None else {}

    @property
    def key_case(self) -> dict[str, str]:
        """Lower-cased key -> the spelling in the file (built lazily: only the writer needs it)."""
        if isinstance(self._key_case, tuple):
            self._key_case = dict(zip(*self._key_case))
        return self._key_case

    def __getattr__(self, name: str):
        # Only called when normal lookup fails, i.e. before the structure exists.
        if name in _STRUCTURE:
            self._build_structure()
            return self.__dict__[name]
        raise AttributeError(name)

    def _build_structure(self) -> None:
        for name in _STRUCTURE:
            self.__dict__[name] = {} if name in ("header", "base", "waves", "shapes") else []
        route_lines(self, list(self._entries), list(self._entries.values()))

    @property
    def structured(self) -> bool:
        return "base" in self.__dict__

    def entries(self) -> dict[str, str]:
        """Lower-cased key -> value as the file would hold it (code lines numbered from 1)."""
        if not self.structured:
            return self._entries
        return {key.lower(): value.strip() for key, value in preset_lines(self)}

    @property
    def name(self) -> str:
        if not self.path:
            return ""
        tail = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        return tail[:-5] if tail.lower().endswith(".milk") else tail

    def value(self, key: str, default: float) -> float:
        """A base value as a finite float (``default`` when missing or unreadable)."""
        source = self.__dict__.get("base", self._entries)
        return _as_float(source.get(key), default)

    def semantic(self) -> tuple:
        """Everything that changes how the preset renders; equal for equivalent presets."""
        waves = tuple(sorted((k, tuple(sorted(w.params.items())), _code_items(w.code)) for k, w in self.waves.items()))
        shapes = tuple(sorted((k, tuple(sorted(s.params.items())), _code_items(s.code)) for k, s in self.shapes.items()))
        return (
            tuple(sorted(self.header.items())),
            tuple(sorted(self.base.items())),
            tuple(self.per_frame_init),
            tuple(self.per_frame),
            tuple(self.per_pixel),
            waves,
            shapes,
            tuple(self.warp),
            tuple(self.comp),
        )

    def to_text(self) -> str:
        return preset_to_text(self)


def _code_items(code: dict[str, list[str]]) -> tuple:
    return tuple(sorted((k, tuple(v)) for k, v in code.items() if v))


def parse_milk(data: bytes | str, path: str | None = None) -> MilkPreset:
    """Parse one preset; raises ``MilkParseError`` when the text is not a preset at all."""
    where = path or "<milk>"
    text = decode_milk(data)
    if "\x00" in text:
        raise MilkParseError(f"{where}: binary data (NUL bytes), not a .milk preset")
    scanned = compiled_scan(text) if compiled_scan is not None else None
    entries, duplicates, section, low, keys = scanned if scanned is not None else scan_python(text)
    if section is None and not _has_known_key(entries):
        raise MilkParseError(f"{where}: no [preset00] section and no known MilkDrop key")
    return MilkPreset(entries, path, section, duplicates, (low, keys))


def scan_python(text: str) -> tuple[dict[str, str], int, str | None, list[str], list[str]]:
    """(lower-cased key -> value, duplicate count, section, lower-cased keys, keys as spelled): the
    tokenizer in pure Python; ``_milkscan.scan`` is the same in C."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    section = _section(text)
    # Bulk string operations instead of per-line branching: this is the hot path.
    parts = [line.partition("=") for line in text.split("\n")]
    keys = [p[0] for p in parts if p[1]]
    values = list(map(str.strip, [p[2] for p in parts if p[1]]))
    joined = "\n".join(keys)
    if " " in joined or "\t" in joined:
        keys = list(map(str.strip, keys))
        joined = "\n".join(keys)
    low = joined.lower().split("\n") if keys else []
    entries = dict(zip(low, values))
    duplicates = len(low) - len(entries)
    entries.pop("", None)
    return entries, duplicates, section, low, keys


# The C tokenizer, or None (not built, or AIVJ_PURE_PYTHON=1). It returns None for text beyond Latin-1
# (then scan_python runs). features.pure_python() sets it to None.
compiled_scan = compiled("aivj.milk._milkscan", "scan")


def _has_known_key(entries: dict[str, str]) -> bool:
    return any(map(is_known_key, entries))


def _section(text: str) -> str | None:
    """Name of the first ``[section]`` line (str.find: a multi-line regex costs ~35 us per preset)."""
    i = len(text) - len(text.lstrip(" \t"))
    if not text.startswith("[", i):
        i = text.find("\n[") + 1
        if i == 0:
            return None
    while True:
        end = text.find("\n", i)
        line = text[i : end if end >= 0 else None].strip()
        if line.endswith("]") and "=" not in line:
            return line[1:-1].strip().lower()
        i = text.find("\n[", end) + 1 if end >= 0 else 0
        if i == 0:
            return None
