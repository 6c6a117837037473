"""Contact sheets: the top and bottom pairs as small animated composites, in one self-contained HTML file.

Each tile is the pair as the app blends it (``aivj.refinery.scoring.BLEND``: BG opaque, FG over it at
opacity ``FG_OPACITY``) from the frames the refinery cached, as an inline animated GIF (Pillow), with
its scores. A dead layer (black or failed render) is shown black, as it is scored. Used by
``aivj export pairs-quality --preview DIR`` and by the training report for the golden set.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from aivj.refinery.cache import FrameCache
from aivj.refinery.scoring import FG_OPACITY

PER_SIDE = 24  # top and bottom pairs shown
FRAME_STEP = 4  # every 4th stored frame: 16 frames at ~117 ms (the stored clock is 29.3 ms a frame)
SCALE = 3  # 32 px stored frames -> 96 px tiles
COLORS = 32  # per-frame palette without dithering: ~45 kB a tile (measured), ~2 MB for 48 tiles


def composite(fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """uint8 [T, S, S, 3] composite of two layers' frames: C = a*FG + (1-a)*BG."""
    t = min(len(fg), len(bg))
    mixed = FG_OPACITY * fg[:t].astype(np.float32) + (1.0 - FG_OPACITY) * bg[:t].astype(np.float32)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)


def gif_bytes(frames: np.ndarray, frame_seconds: float, step: int = FRAME_STEP, scale: int = SCALE) -> bytes:
    from PIL import Image

    picked = frames[::step]
    images = [
        Image.fromarray(f)
        .resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST)
        .quantize(colors=COLORS, dither=Image.Dither.NONE)
        for f in picked
    ]
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        loop=0,
        duration=max(20, int(round(frame_seconds * step * 1000))),
        optimize=True,
    )
    return buf.getvalue()


def _frames(cache, preset_id: str, dead: bool, shape) -> np.ndarray:
    if dead or not cache.frames_path(preset_id).exists():
        return np.zeros(shape, dtype=np.uint8)
    return cache.load_frames(preset_id)


def _tile(cache, row: dict, shape) -> str:
    frames = composite(
        _frames(cache, row["fg_id"], row.get("fg_dead", False), shape),
        _frames(cache, row["bg_id"], row.get("bg_dead", False), shape),
    )
    data = base64.b64encode(gif_bytes(frames, cache.settings.frame_seconds)).decode()
    esc = html.escape
    lines = "".join(f"<div>{esc(str(line))}</div>" for line in row["caption"])
    return f"<figure><img src='data:image/gif;base64,{data}' alt='{esc(str(row['caption'][0]))}'>{lines}</figure>"


def sheet_html(title: str, note: str, sections: list[tuple[str, list[dict]]], cache) -> str:
    shape = (cache.settings.frames, cache.settings.store, cache.settings.store, 3)
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;background:#111;color:#ddd}figure{display:inline-block;margin:4px;"
        "width:" + str(32 * SCALE + 8) + "px;font-size:10px;vertical-align:top;overflow:hidden}"
        "img{image-rendering:pixelated;display:block}</style>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(note)}</p>",
    ]
    for heading, rows in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts += [_tile(cache, row, shape) for row in rows]
    return "\n".join(parts) + "\n"


def pack_sheet(scored, out_dir: Path) -> Path | None:
    """``out_dir/index.html`` for an exported pack (``pack_export.ScoredPack``); None without renders."""
    from aivj.contract.atomic import write_text_atomic

    if scored.renders is None or not scored.pairs:
        return None
    dead = scored.renders.dead
    ranked = sorted(scored.pairs, key=lambda p: p["quality01"], reverse=True)
    rows = [
        {
            **p,
            "fg_dead": p["fg_id"] in dead,
            "bg_dead": p["bg_id"] in dead,
            "caption": [
                f"pair {p['pair']}: quality01 {p['quality01']:.3f}",
                f"model {p['model']:.2f} / refinery {p['refinery']:.2f}",
                f"FG {Path(p['fg']).stem[:40]}",
                f"BG {Path(p['bg']).stem[:40]}",
            ],
        }
        for p in ranked
    ]
    n = min(PER_SIDE, len(rows))
    sections = [
        (f"Top {n}", rows[:n]),
        (f"Bottom {min(PER_SIDE, max(len(rows) - n, 0))}", rows[max(n, len(rows) - PER_SIDE) :][::-1]),
    ]
    note = (
        f"{scored.doc['pack']}: {len(rows)} pairs, FG over BG at opacity {FG_OPACITY} as the app blends them; "
        f"scores are 0-5 (quality01 = shipped score / 5, stretched). Dead layers show black."
    )
    out = Path(out_dir) / "index.html"
    write_text_atomic(out, sheet_html(f"pairs-quality: {scored.doc['pack']}", note, sections, scored.renders.cache))
    return out


def golden_sheet(predictions, out_path: Path, cache_root: Path | None = None, settings=None) -> Path | None:
    """The golden set's top and bottom pairs by prediction, for the training report.

    ``predictions`` needs ``pred``, ``score``, ``split``, ``fg_id`` and ``bg_id``; returns None (and
    prints one line) when the ids are absent or the golden presets' frames are not in the cache.
    """
    from aivj.contract.atomic import write_text_atomic
    from aivj.refinery.settings import RenderSettings

    get = lambda k: predictions[k] if k in predictions else None
    if any(get(k) is None for k in ("pred", "score", "split", "fg_id", "bg_id")):
        print("report: golden contact sheet skipped: predictions carry no fg_id/bg_id")
        return None
    split = np.asarray(get("split"), dtype=object)
    idx = np.flatnonzero(split == "golden")
    if not len(idx):
        print("report: golden contact sheet skipped: no golden pairs")
        return None
    settings = settings or RenderSettings()
    root = Path(cache_root) if cache_root else None
    cache = FrameCache.reader(settings, root)
    fg, bg = np.asarray(get("fg_id"), dtype=object), np.asarray(get("bg_id"), dtype=object)
    missing = sorted(
        {str(i) for i in np.concatenate([fg[idx], bg[idx]]) if cache is None or not cache.frames_path(str(i)).exists()}
    )
    if missing:
        print(
            f"report: golden contact sheet skipped: {len(missing)} golden preset(s) have no frames in the cache "
            f"({cache.dir if cache else 'no cache'})"
        )
        return None
    pred, true = np.asarray(get("pred"), dtype=np.float64), np.asarray(get("score"), dtype=np.float64)
    order = idx[np.argsort(-pred[idx], kind="stable")]
    rows = [
        {
            "fg_id": str(fg[i]),
            "bg_id": str(bg[i]),
            "caption": [f"predicted {pred[i]:.2f}", f"refinery {true[i]:.2f}", f"FG {str(fg[i])[:12]}", f"BG {str(bg[i])[:12]}"],
        }
        for i in order
    ]
    n = min(PER_SIDE, len(rows))
    sections = [(f"Top {n} by prediction", rows[:n]), ("Bottom by prediction", rows[max(n, len(rows) - PER_SIDE) :][::-1])]
    write_text_atomic(Path(out_path), sheet_html("Golden set", "Golden pairs as the app blends them.", sections, cache))
    return Path(out_path)
