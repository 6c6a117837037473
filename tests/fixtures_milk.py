"""Builders for small aidata packs in every layout the importer reads (used by tests/test_ingest_*)."""

from __future__ import annotations

import csv
import json
import zlib
from pathlib import Path

from aivj.milk.synthetic import synthetic_preset


def write_pair_files(pack: Path, stem: str, seed: int) -> tuple[Path, Path]:
    (pack / "fg").mkdir(parents=True, exist_ok=True)
    (pack / "bg").mkdir(parents=True, exist_ok=True)
    fg, bg = pack / "fg" / f"{stem}_fg.milk", pack / "bg" / f"{stem}_bg.milk"
    fg.write_text(synthetic_preset(2 * seed).to_text())
    bg.write_text(synthetic_preset(2 * seed + 1).to_text())
    return fg, bg


def coupled_pack(root: Path, name: str, n: int, style: str = "wsl", start: int = 0) -> Path:
    """``manifest.jsonl`` with absolute WSL (``wsl``), Windows (``windows``) or relative (``pair_id``) paths."""
    pack = root / name
    lines = []
    for i in range(start, start + n):
        stem = f"coupled_{i:05d}_20260129_015409"
        write_pair_files(pack, stem, seed=zlib.crc32(f"{name}:{i}".encode()) % 100000)
        if style == "wsl":
            item = {
                "pair": i,
                "fg": f"/mnt/d/aidata/{name}/fg/{stem}_fg.milk",
                "bg": f"/mnt/d/aidata/{name}/bg/{stem}_bg.milk",
                "warp_diff": 0.01,
                "cx_diff": 0.1,
            }
        elif style == "windows":
            item = {"pair": i, "fg": f"D:\\aidata\\{name}\\fg\\{stem}_fg.milk", "bg": f"D:\\aidata\\{name}\\bg\\{stem}_bg.milk"}
        else:
            item = {"pair_id": i, "fg": f"fg/{stem}_fg.milk", "bg": f"bg/{stem}_bg.milk", "strategy": "x", "strength": 0.7}
        lines.append(json.dumps(item))
    with open(pack / "manifest.jsonl", "a") as fh:
        fh.write("\n".join(lines) + "\n")
    return pack


def eval_labels(
    pack: Path, pairs: list[int], luma: float = 0.15, motion: float = 3e-4, samples: int = 3, pack_name: str | None = None
) -> Path:
    path = pack / "eval.jsonl"
    with open(path, "a") as fh:
        for pair in pairs:
            for k in range(samples):
                row = {"tMs": k * 250, "pack": pack_name or pack.name, "pair": pair, "vizAvgLuma": luma + 0.01 * (pair % 5),
                       "vizAvgFrameDelta": motion, "quality01": 0.5, "reasons": []}  # fmt: skip
                fh.write(json.dumps(row) + "\n")
    return path


def summary_csv(pack: Path, scores: dict[int, float]) -> Path:
    path = pack / "pair_summary_v2.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "pair",
                "n",
                "avgScore",
                "avgLuma",
                "minLuma",
                "maxLuma",
                "avgMotion",
                "minMotion",
                "maxMotion",
                "topReason",
                "topReasonN",
            ]
        )
        for pair, score in scores.items():
            w.writerow([pair, 6, score, 0.2, 0.1, 0.3, 1e-4, 1e-5, 2e-4, "", 0])
    return path


def runtime_pack(root: Path, name: str, n: int) -> Path:
    pack = root / name
    pairs = []
    for i in range(n):
        stem = f"rt_{i:04d}"
        write_pair_files(pack, stem, seed=5000 + i)
        pairs.append(
            {
                "pair": i,
                "fgUrl": f"/presets/{name}/fg/{stem}_fg.milk",
                "bgUrl": f"/presets/{name}/bg/{stem}_bg.milk",
                "warp_diff": 0.01,
            }
        )
    (pack / "pairs-manifest.v0.json").write_text(
        json.dumps({"version": "v0", "generatedAt": "2026-01-29", "pack": name, "pairs": pairs})
    )
    return pack


def elite_pack(root: Path, n: int, as_list: bool = False, with_rank: bool = True) -> Path:
    pack = root / "AIVJ_FINAL_ELITE"
    items = []
    for i in range(n):
        stem = f"elite_{i:04d}"
        write_pair_files(pack, stem, seed=9000 + i)
        item = {
            "pair": i,
            "fg": f"D:\\aidata\\AIVJ_FINAL_ELITE\\fg\\{stem}_fg.milk",
            "bg": f"bg/{stem}_bg.milk",
            "score": 4.5 if i % 4 else 1.5,
        }
        if with_rank:
            item["rank"] = n - i
        items.append(item)
    data = items if as_list else {"pairs": items}
    (pack / "AIVJ_FINAL_ELITE_MANIFEST.json").write_text(json.dumps(data))
    return pack


def alchemy_pack(root: Path, n: int) -> Path:
    pack = root / "deep_alchemy_10h"
    lines = []
    for i in range(n):
        stem = f"alc_{i:04d}"
        write_pair_files(pack, stem, seed=7000 + i)
        lines.append(
            json.dumps(
                {"id": i, "fg": f"fg/{stem}_fg.milk", "bg": f"bg/{stem}_bg.milk", "quality": round(0.5 + 0.04 * (i % 10), 3)}
            )
        )
    (pack / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return pack
