"""Build a pack in the user's layout from preset files (tests and benchmarks; docs/ingestion.md).

    PACK/manifest.jsonl     {"pair": N, "fg": "<another machine's path>/fg/<file>", "bg": ".../bg/<file>"}
    PACK/fg/*.milk PACK/bg/*.milk

Manifest paths are written as the generator writes them on another machine, so the export's path
resolution is exercised too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np


def unseen_debian_presets(data_dir: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` Debian preset files whose content hash only occurs in ``data_dir``'s test_unseen pairs."""
    import pyarrow.compute as pc

    from aivj.contract.layout import pairs_dataset
    from aivj.refinery.library import DEBIAN_PRESETS, scan

    table = pairs_dataset(data_dir).to_table(columns=["fg_id", "bg_id", "split"])
    unseen = pc.equal(table["split"], "test_unseen")
    ids = set(table.filter(unseen)["fg_id"].to_pylist()) | set(table.filter(unseen)["bg_id"].to_pylist())
    seen = set(table.filter(pc.invert(unseen))["fg_id"].to_pylist()) | set(table.filter(pc.invert(unseen))["bg_id"].to_pylist())
    files = [f for f in scan([DEBIAN_PRESETS], "projectm-data") if f.id in ids - seen]
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(files))[:n]
    return [Path(files[i].path) for i in sorted(pick)]


def write_coupled_pack(out_dir: Path, presets: list[Path], name: str = "coupled_pack") -> Path:
    """A generator-style pack: pair k is its own two files (presets 2k and 2k+1), named as the generator names them."""
    pack = Path(out_dir) / name
    (pack / "fg").mkdir(parents=True, exist_ok=True)
    (pack / "bg").mkdir(exist_ok=True)
    with open(pack / "manifest.jsonl", "w", encoding="utf-8") as fh:
        for k in range(len(presets) // 2):
            stem = f"coupled_{k:05d}_20260129_015409"
            shutil.copyfile(presets[2 * k], pack / "fg" / f"{stem}_fg.milk")
            shutil.copyfile(presets[2 * k + 1], pack / "bg" / f"{stem}_bg.milk")
            fh.write(
                json.dumps(
                    {"pair": k, "fg": f"/mnt/d/aidata/{name}/fg/{stem}_fg.milk", "bg": f"/mnt/d/aidata/{name}/bg/{stem}_bg.milk"}
                )
                + "\n"
            )
    return pack


def write_pack(out_dir: Path, presets: list[Path], n_pairs: int, seed: int = 0, name: str = "export_pack") -> Path:
    """``n_pairs`` distinct ordered FG/BG pairs (fg != bg) of ``presets`` as a pack folder."""
    pack = Path(out_dir) / name
    (pack / "fg").mkdir(parents=True, exist_ok=True)
    (pack / "bg").mkdir(exist_ok=True)
    names = []
    for k, src in enumerate(presets):
        fname = f"p{k:04d}_{src.name}"
        for side in ("fg", "bg"):
            shutil.copyfile(src, pack / side / fname)
        names.append(fname)
    n = len(presets)
    if n_pairs > n * (n - 1):
        raise ValueError(f"{n} presets make at most {n * (n - 1)} ordered pairs, not {n_pairs}")
    rng = np.random.default_rng(seed)
    codes = rng.permutation(n * n)
    pairs = [(c // n, c % n) for c in codes if c // n != c % n][:n_pairs]
    with open(pack / "manifest.jsonl", "w", encoding="utf-8") as fh:
        for pid, (f, b) in enumerate(pairs):
            fh.write(
                json.dumps(
                    {"pair": pid, "fg": f"/mnt/d/aidata/{name}/fg/{names[f]}", "bg": f"D:\\aidata\\{name}\\bg\\{names[b]}"}
                )
                + "\n"
            )
    return pack
