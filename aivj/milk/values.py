"""Reading values the way MilkDrop does: bytes to text, and ``atof``-like numbers."""

from __future__ import annotations


def as_float(text: str | None, default: float) -> float:
    """A finite float, or ``default`` when missing, unreadable, NaN or infinite."""
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = _leading_float(text)
        if value is None:
            return default
    if value != value or value in (float("inf"), float("-inf")):
        return default
    return value


def _leading_float(text: str) -> float | None:
    """MilkDrop reads values with atof: ``1.0f`` or ``0.5 // comment`` still give a number."""
    text = text.strip()
    end = 0
    for i, ch in enumerate(text):
        if ch in "0123456789+-.eE":
            end = i + 1
        else:
            break
    while end:
        try:
            return float(text[:end])
        except ValueError:
            end -= 1
    return None


def decode_milk(data: bytes | str) -> str:
    """Text of a preset: UTF-8 BOM stripped, UTF-8 when valid, else Latin-1 (old Windows presets)."""
    if isinstance(data, str):
        return data[1:] if data.startswith("\ufeff") else data
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
