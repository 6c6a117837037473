"""A preset as a token sequence: what the text encoder of the static path reads (docs/model.md).

Every token carries three things: an id (a hashed bucket of what it is: a base key, a code
identifier or operator, or the number marker), a numeric value (the base value or the literal,
signed-log scaled; 0 for words) and the section it came from (base values, per-frame code, the
comp shader, ...). Hashing keeps the vocabulary open: a preset from another collection with names
never seen in training still gets ids, and no vocabulary file ships beside the model.

Only what MilkDrop executes is read: comments, the header, the rating and disabled custom
waves/shapes are dropped, so behavioural twins (aivj/refinery/twins.py) tokenise the same.
Each section is capped, so a preset with a huge shader still keeps its base values and code.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from aivj.milk.values import as_float

VOCAB_SIZE = 4096
PAD, NUMBER = 0, 1
_RESERVED = 2
SECTIONS = ("base", "per_frame_init", "per_frame", "per_pixel", "wave_params", "wave_code",
            "shape_params", "shape_code", "warp", "comp")  # fmt: skip
# tokens kept per section, in this order; the total is MAX_TOKENS
SECTION_CAPS = {"base": 96, "per_frame_init": 32, "per_frame": 96, "per_pixel": 64, "wave_params": 32,
                "wave_code": 64, "shape_params": 32, "shape_code": 48, "warp": 96, "comp": 128}  # fmt: skip
MAX_TOKENS = sum(SECTION_CAPS.values())
_SKIPPED_KEYS = frozenset({"milkdrop_preset_version", "psversion", "psversion_warp", "psversion_comp", "frating"})
_CUSTOM = re.compile(r"^(wave|shape)(code)?_(\d+)_(.+)$")
_NUMBERED = re.compile(r"^(per_frame_init|per_frame|per_pixel|warp|comp)_(\d+)$")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_LEXEME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|[-+*/%^=<>!&|?:]+|[(){}\[\],;.]")


def bucket(text: str) -> int:
    return _RESERVED + zlib.crc32(text.encode()) % (VOCAB_SIZE - _RESERVED)


def scaled(x: float) -> float:
    """Signed log: keeps 0.98 apart from 0.99 and 1e6 from overflowing."""
    return float(np.sign(x) * np.log1p(abs(x) * 10.0))


def _code_tokens(code: str, cap: int) -> list[tuple[int, float]]:
    out = []
    for lexeme in _LEXEME.findall(_COMMENTS.sub(" ", code.replace("`", " "))):
        if len(out) >= cap:
            break
        if lexeme[0].isdigit() or (lexeme[0] == "." and len(lexeme) > 1):
            out.append((NUMBER, scaled(as_float(lexeme, 0.0))))
        else:
            out.append((bucket("w:" + lexeme.lower()), 0.0))
    return out


def _sort_key(key: str) -> tuple:
    m = re.search(r"(\d+)$", key)
    return (key[: m.start()] if m else key, int(m.group(1)) if m else 0)


def tokenize_entries(entries: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids int32, values float32, sections int8) of one preset's lower-cased ``entries``."""
    scalars: dict[str, list[tuple[str, str]]] = {s: [] for s in ("base", "wave_params", "shape_params")}
    code: dict[str, list[tuple[tuple, str]]] = {s: [] for s in SECTIONS}
    disabled = {
        m.group(1, 3)
        for k, v in entries.items()
        if (m := _CUSTOM.match(k)) and m.group(2) and m.group(4) == "enabled" and as_float(v, 0.0) == 0.0
    }
    for key, value in entries.items():
        if key in _SKIPPED_KEYS:
            continue
        if m := _NUMBERED.match(key):
            code[m.group(1)].append(((int(m.group(2)),), value))
        elif m := _CUSTOM.match(key):
            kind, is_param, index, rest = m.groups()
            if (kind, index) in disabled:
                continue
            if is_param:
                scalars[f"{kind}_params"].append((f"{kind}:{rest}", value))
            else:
                code[f"{kind}_code"].append(((int(index), *_sort_key(rest)), value))
        else:
            scalars["base"].append((key, value))
    ids, values, sections = [], [], []
    for s, name in enumerate(SECTIONS):
        cap = SECTION_CAPS[name]
        if name in scalars:
            toks = [(bucket("k:" + k), scaled(as_float(v, 0.0))) for k, v in sorted(scalars[name])][:cap]
        else:
            toks = _code_tokens("\n".join(v for _, v in sorted(code[name])), cap)
        ids += [t for t, _ in toks]
        values += [v for _, v in toks]
        sections += [s] * len(toks)
    return np.asarray(ids, np.int32), np.asarray(values, np.float32), np.asarray(sections, np.int8)


def pad_batch(
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]], length: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack token rows into [N, L] arrays padded with PAD (id 0, value 0, section 0)."""
    length = length or max((len(r[0]) for r in rows), default=1) or 1
    ids = np.zeros((len(rows), length), np.int32)
    vals = np.zeros((len(rows), length), np.float32)
    secs = np.zeros((len(rows), length), np.int8)
    for i, (a, b, c) in enumerate(rows):
        n = min(len(a), length)
        ids[i, :n], vals[i, :n], secs[i, :n] = a[:n], b[:n], c[:n]
    return ids, vals, secs
