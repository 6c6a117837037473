"""Measure what the browser receives: export a pack of presets the model never saw, compare with the refinery.

    .venv/bin/python experiments/export_eval.py --presets DIR [--n-presets 60] [--pairs 600] [--model V] [--split test_unseen]

Samples ``--n-presets`` presets from DIR whose content (and twin group: identical static features)
is absent from the training data, writes a pack in the user's layout with random FG/BG pairs among
them, then runs the real ``aivj export pairs-quality`` three times: ``--score refinery`` (the exact
score from the renders: the reference), the default export (renders, model score) and
``--render never`` (static path). Prints pairwise accuracy (|dy| >= 0.25) and Spearman of each
exported file against the reference, read back from the JSON files the browser would load.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def held_out_ids(data_dir: Path, split: str) -> set[str]:
    """Presets of a held-out split (test_unseen, golden): their twin groups never reach train."""
    import pyarrow.dataset as pads

    part = pads.dataset(data_dir / "pairs", partitioning="hive").to_table(columns=["fg_id", "bg_id", "split"]).to_pandas()
    part = part[part.split == split]
    return set(part.fg_id) | set(part.bg_id)


def unseen_presets(folder: Path, data_dir: Path, n: int, seed: int, split: str | None = None) -> list[Path]:
    from aivj.milk.features import extract_features
    from aivj.milk.hashing import content_hash
    from aivj.milk.parser import parse_milk

    known = pq.read_table(data_dir / "presets.parquet", columns=["preset_id", "features"])
    ids = set(known["preset_id"].to_pylist())
    feats = {np.asarray(f, np.float32).tobytes() for f in known["features"].to_pylist()}
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".milk" and p.is_file())
    wanted = held_out_ids(data_dir, split) if split else set()
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.permutation(len(files)):
        data = files[i].read_bytes()
        try:
            f = np.asarray(extract_features(parse_milk(data, str(files[i]))), np.float32).tobytes()
        except ValueError:
            continue
        if (content_hash(data) in wanted) if split else (content_hash(data) not in ids and f not in feats):
            out.append(files[i])
        if len(out) == n:
            break
    return out


def write_pack(pack: Path, presets: list[Path], n_pairs: int, seed: int) -> None:
    for side in ("fg", "bg"):
        (pack / side).mkdir(parents=True, exist_ok=True)
    names = [f"p{i:04d}.milk" for i in range(len(presets))]
    for name, p in zip(names, presets):
        for side in ("fg", "bg"):
            (pack / side / name).write_bytes(p.read_bytes())
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < min(n_pairs, len(presets) * (len(presets) - 1)):
        a, b = rng.integers(0, len(presets), 2)
        if a != b:
            pairs.add((int(a), int(b)))
    with open(pack / "manifest.jsonl", "w") as fh:
        for k, (a, b) in enumerate(sorted(pairs)):
            fh.write(
                json.dumps(
                    {
                        "pair": k,
                        "fg": f"/mnt/d/aidata/{pack.name}/fg/{names[a]}",
                        "bg": f"/mnt/d/aidata/{pack.name}/bg/{names[b]}",
                    }
                )
                + "\n"
            )


def export(pack: Path, out: Path, cache: Path, extra: list[str]) -> dict[int, float] | str:
    """{pair: quality01} of the exported file, or the export's one-line refusal."""
    cmd = [
        sys.executable,
        "-m",
        "aivj",
        "export",
        "pairs-quality",
        "--pack",
        str(pack),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *extra,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        return f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return {p["pair"]: p["quality01"] for p in json.loads(out.read_text())["pairs"]}


def agreement(pred: dict[int, float], ref: dict[int, float]) -> dict:
    """Pairwise accuracy and Spearman of the exported values against the reference, by the project's own metric."""
    from aivj.export.pack_export import agreement as pack_agreement

    keys = sorted(set(pred) & set(ref))
    return pack_agreement(np.array([pred[k] for k in keys]) * 5, np.array([ref[k] for k in keys]) * 5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=Path, required=True, help="a folder of presets (only unseen ones are used)")
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "default")
    ap.add_argument("--n-presets", type=int, default=60)
    ap.add_argument("--pairs", type=int, default=600)
    ap.add_argument("--model", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--split",
        default=None,
        choices=("test_unseen", "golden"),
        help="take the presets from this held-out split of --data instead of presets absent from it",
    )
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aivj_export_eval_"))
    presets = unseen_presets(args.presets, args.data, args.n_presets, args.seed, args.split)
    pack = work / "unseen_pack"
    write_pack(pack, presets, args.pairs, args.seed)
    model = ["--model", args.model] if args.model else []
    ref = export(pack, work / "refinery.json", work / "cache", [*model, "--score", "refinery", "--render", "always"])
    rows = {
        "default export (renders, model score)": export(pack, work / "default.json", work / "cache", model),
        "--render never (static path)": export(pack, work / "static.json", work / "cache", [*model, "--render", "never"]),
    }
    print(f"{len(presets)} unseen presets from {args.presets}, {len(ref)} pairs scored by the refinery (work dir {work})")
    if isinstance(ref, str):
        raise SystemExit(f"the refinery export failed: {ref}")
    for name, pred in rows.items():
        if isinstance(pred, str):
            print(f"{name:<40} refused: {pred}")
            continue
        a = agreement(pred, ref)
        print(f"{name:<40} pairwise {a['pairwise_acc']:.3f}  Spearman {a['spearman']:.3f}  ({a['pairs']} pairs)")


if __name__ == "__main__":
    main()
