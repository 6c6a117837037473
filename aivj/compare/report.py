"""The verdict per tolerance, difference heatmaps (PNG) and one HTML report with the worst pairs side by side."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aivj.compare.run import SetResult
from aivj.contract.atomic import atomic_path, write_text_atomic

if TYPE_CHECKING:  # Pillow is imported where images are made (as aivj/export/preview.py does)
    from PIL import Image

UPSCALE = 4


def verdicts(results: list[SetResult], tol: dict) -> list[dict]:
    """One row per tolerance: the worst value over every pair of every set, the pairs over it, pass/fail."""
    rows = []
    checks = (
        ("score_pct", "score deviation (% of 0-5)", lambda r: r.score_pct, lambda v, t: v <= t),
        ("coord_pct", "coupling coordinate error (% of range)", lambda r: r.coord_pct, lambda v, t: v <= t),
        ("phase_frames", "phase difference (frames)", lambda r: r.phase_frames, lambda v, t: v <= t),
        ("ssim_min", "composite SSIM (lowest pair)", lambda r: r.ssim, lambda v, t: v >= t),
    )
    for key, label, values, ok in checks:
        allv = np.concatenate([values(r) for r in results]) if results else np.zeros(0)
        worst = (allv.min() if key == "ssim_min" else allv.max()) if len(allv) else float("nan")
        over = int((~ok(allv, tol[key])).sum())
        rows.append(
            {"tolerance": key, "what": label, "limit": tol[key], "worst": float(worst), "pairs_over": over, "pass": over == 0}
        )
    return rows


def _png(rgb01: np.ndarray) -> Image.Image:
    from PIL import Image

    img = Image.fromarray((np.clip(rgb01, 0, 1) * 255).astype(np.uint8))
    return img.resize((img.width * UPSCALE, img.height * UPSCALE), Image.NEAREST)


def heatmap(a: np.ndarray, b: np.ndarray) -> Image.Image:
    """|a - b| over channels and the 8 frames, black (0) -> red -> yellow (the largest difference, or 0.25)."""
    d = np.abs(a - b).mean(axis=(0, 1))
    x = np.clip(d / max(float(d.max()), 0.25), 0, 1)
    rgb = np.stack([np.clip(2 * x, 0, 1), np.clip(2 * x - 1, 0, 1), np.zeros_like(x)], -1)
    return _png(rgb)


def _b64(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def write_report(results: list[SetResult], rows: list[dict], labels: tuple[str, str], out: Path) -> Path:
    """``out/report.html`` and ``out/heatmaps/<set>-<pack>-<pair>.png``; returns the report's path."""
    out = Path(out)
    (out / "heatmaps").mkdir(parents=True, exist_ok=True)
    esc = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'><title>aivj compare</title>",
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}.fail{color:#b00}.pass{color:#070}"
        "img{image-rendering:pixelated;margin-right:4px}</style>",
        f"<h1>{esc(labels[0])} vs {esc(labels[1])}</h1><table><tr><th>tolerance</th><th>limit</th><th>worst</th>"
        "<th>pairs over</th><th>verdict</th></tr>",
    ]
    for r in rows:
        cls = "pass" if r["pass"] else "fail"
        parts.append(
            f"<tr><td>{esc(r['what'])}</td><td>{r['limit']}</td><td>{r['worst']:.4g}</td><td>{r['pairs_over']}</td>"
            f"<td class='{cls}'>{cls.upper()}</td></tr>"
        )
    parts.append("</table>")
    for res in results:
        finite = res.psnr[np.isfinite(res.psnr)]
        parts.append(
            f"<h2>{esc(res.name)}: {len(res.ssim)} pairs</h2><p>mean SSIM {res.ssim.mean():.4f}, "
            f"PSNR median {np.median(finite) if len(finite) else float('inf'):.2f} dB ({len(res.psnr) - len(finite)} identical), "
            f"score deviation max {res.score_pct.max():.3f}%, coordinate error max {res.coord_pct.max():.3f}%, "
            f"phase difference max {res.phase_frames.max():.0f} frame(s)</p>"
            "<table><tr><th>pair</th><th>old | new | |difference|</th><th>scores</th><th>SSIM</th><th>coord %</th><th>phase</th></tr>"
        )
        for i, (a, b) in res.images.items():
            p = res.pairs
            name = f"{res.name}-{p.pack[i]}-{p.pair[i]}".replace("/", "_")
            heat = heatmap(a, b)
            with atomic_path(out / "heatmaps" / f"{name}.png", suffix=".png") as tmp:
                heat.save(tmp, format="PNG")
            mid = a.shape[0] // 2  # one sample frame of the eight
            tiles = "".join(
                f"<img src='data:image/png;base64,{_b64(img)}'>"
                for img in (_png(a[mid].transpose(1, 2, 0)), _png(b[mid].transpose(1, 2, 0)), heat)
            )
            parts.append(
                f"<tr><td>{esc(str(p.pack[i]))}/{p.pair[i]}</td><td>{tiles}</td>"
                f"<td>{res.scores[0][i]:.3f} / {res.scores[1][i]:.3f}</td><td>{res.ssim[i]:.4f}</td>"
                f"<td>{res.coord_pct[i]:.3f}</td><td>{res.phase_frames[i]:.0f}</td></tr>"
            )
        parts.append("</table>")
    path = out / "report.html"
    write_text_atomic(path, "\n".join(parts) + "\n")
    return path
