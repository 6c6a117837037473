"""The shared catalogue of bad inputs the bad-input suite (tests/test_bad_input_*.py) feeds every entry point.

Kinds: missing, empty, wrong type, garbage bytes, truncated, duplicate, huge, unreadable, relative path,
Unicode names. Each builder makes its input under ``tmp`` and returns the path. ``run_cli`` runs an
``aivj`` command in-process and returns (exit code, stdout, stderr); ``one_line_error`` is the
assertion every failing case makes: a message naming the thing, on one line, without a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

DEBIAN = Path("/usr/share/projectM/presets/presets_milkdrop")
GOOD_MILK = (
    "[preset00]\nfRating=3.0\nfDecay=0.98\nzoom=1.01\nrot=0.02\nwarp=0.5\nwave_r=0.6\nper_frame_1=wave_g=0.5+0.3*sin(time);\n"
)
UNICODE_NAME = "Größe – ☃ 日本"
UNREADABLE_DIR = Path("/proc/aivj-no-such-dir")  # nobody, not even root, can create a folder here


def missing(tmp: Path, name: str = "no_such_thing") -> Path:
    return tmp / name


def empty_file(tmp: Path, name: str = "empty.milk") -> Path:
    (tmp / name).write_bytes(b"")
    return tmp / name


def empty_dir(tmp: Path, name: str = "empty_dir") -> Path:
    (tmp / name).mkdir()
    return tmp / name


def garbage(tmp: Path, name: str = "garbage.bin", size: int = 4096) -> Path:
    (tmp / name).write_bytes(hashlib.sha256(name.encode()).digest() * (size // 32) + b"\x00\xff")
    return tmp / name


def truncated(source: Path, tmp: Path, name: str | None = None, keep: float = 0.5) -> Path:
    data = Path(source).read_bytes()
    out = tmp / (name or f"truncated_{Path(source).name}")
    out.write_bytes(data[: max(1, int(len(data) * keep))])
    return out


def milk(folder: Path, name: str, text: str = GOOD_MILK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def pack(tmp: Path, lines: list, name: str = "pack", presets: int = 3, score: float | None = 3.0) -> Path:
    """A coupled pack: fg/p<i>.milk and bg/p<i>.milk (distinct texts) and a manifest of ``lines``.

    A line is a dict (written as JSON, ``score`` added when missing) or a raw string (written as is).
    """
    root = tmp / name
    for i in range(presets):
        milk(root / "fg", f"p{i}.milk", GOOD_MILK.replace("zoom=1.01", f"zoom={1.0 + i / 100:.2f}"))
        milk(root / "bg", f"p{i}.milk", GOOD_MILK.replace("rot=0.02", f"rot={i / 10 + 0.05:.2f}"))
    text = []
    for line in lines:
        if isinstance(line, dict):
            row = dict(line)
            if score is not None:
                row.setdefault("score", score)
            text.append(json.dumps(row))
        else:
            text.append(line)
    (root / "manifest.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")
    return root


def pair(i: int, fg: int | None = None, bg: int | None = None, **extra) -> dict:
    return {"pair": i, "fg": f"fg/p{i if fg is None else fg}.milk", "bg": f"bg/p{i if bg is None else bg}.milk", **extra}


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (nothing written or lost = equal snapshots)."""
    root = Path(root)
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    from aivj.cli import main

    os.environ.pop("AIVJ_DEBUG", None)
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(err: str, *names: str) -> str:
    """The stderr of a failed command: one line, no traceback, naming each of ``names``."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, f"expected one line, got:\n{err}"
    for name in names:
        assert str(name) in lines[0], f"{name!r} not named in: {lines[0]}"
    return lines[0]
