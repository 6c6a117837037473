"""I/O benchmark: one 104,040-pair dataset of the user's layout read five ways, in one run.

    python benchmarks/bench_io.py [--pairs 104040] [--workdir DIR] [--keep] [--reparse-pairs 10000]

1. Generates a coupled pack like ``aivj_coupled_refinery_v2`` in a temp folder: ``fg/`` and ``bg/``
   with one synthetic MilkDrop 2 preset per file (written by ``MilkPreset.to_text``),
   ``manifest.jsonl`` with absolute WSL paths and ``pair_summary_v2.csv`` labels.
2. Ingests it (``aivj.ingest.convert``: presets.parquet + hive-partitioned pairs/).
3. Exports the same training rows (pair fields + FG and BG feature vectors) as flat JSONL and CSV.
4. Times, on one core, loading the training arrays (fg[N,64], bg[N,64], score[N]) from: JSONL,
   CSV, re-parsing the .milk files (on ``--reparse-pairs`` pairs; the rate is per pair), a full
   Parquet scan joined to the presets table, and a Parquet scan filtered to the top partitions
   (``score_bin=4`` or ``rank_quartile=Q1``). Prints rows/s and the ratio to JSONL.
Files were just written, so every reader runs from the page cache.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from aivj.ingest.convert import convert
from aivj.ingest.labels import read_pair_summary
from aivj.milk.batch import load_preset_file
from aivj.milk.synthetic import synthetic_preset
from datamodules.layout import pairs_dataset

PACK = "aivj_coupled_refinery_v2"


def _write_chunk(args: tuple[str, int, int]) -> list[str]:
    pack, start, stop = args
    lines = []
    for i in range(start, stop):
        stem = f"coupled_{i:06d}_20260129_015409"
        for side, seed in (("fg", 2 * i), ("bg", 2 * i + 1)):
            Path(pack, side, f"{stem}_{side}.milk").write_text(synthetic_preset(seed).to_text())
        lines.append(json.dumps({"pair": i, "fg": f"/mnt/d/aidata/{PACK}/fg/{stem}_fg.milk", "bg": f"/mnt/d/aidata/{PACK}/bg/{stem}_bg.milk"}))
    return lines


def generate(pack: Path, n: int, workers: int) -> None:
    (pack / "fg").mkdir(parents=True)
    (pack / "bg").mkdir()
    step = 2000
    with ProcessPoolExecutor(workers) as pool:
        chunks = pool.map(_write_chunk, [(str(pack), s, min(s + step, n)) for s in range(0, n, step)])
        with open(pack / "manifest.jsonl", "w") as fh:
            for lines in chunks:
                fh.write("\n".join(lines) + "\n")
    rng = random.Random(0)
    with open(pack / "pair_summary_v2.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["pair", "n", "avgScore", "avgLuma", "minLuma", "maxLuma", "avgMotion", "minMotion", "maxMotion", "topReason", "topReasonN"])
        for i in range(n):
            w.writerow([i, 6, round(rng.betavariate(4, 3), 4), 0.2, 0.1, 0.3, 1e-4, 1e-5, 2e-4, "", 0])


def training_rows(out: Path):
    """(preset ids as an Arrow array, features[N_presets, 64]): only the two columns training needs."""
    presets = pq.read_table(out / "presets.parquet", columns=["preset_id", "features"])
    feats = presets["features"].combine_chunks().values.to_numpy().reshape(-1, 64)
    return presets["preset_id"].combine_chunks(), feats


def join(table, ids, feats: np.ndarray):
    """Features of each pair's FG and BG: one Arrow hash lookup for both sides + a numpy take."""
    n = table.num_rows
    both = pa.concat_arrays([table["fg_id"].combine_chunks(), table["bg_id"].combine_chunks()])
    idx = pc.index_in(both, value_set=ids).to_numpy()
    return feats[idx[:n]], feats[idx[n:]], table["score"].to_numpy()


def export_flat(out: Path, work: Path) -> tuple[Path, Path]:
    ids, feats = training_rows(out)
    table = pairs_dataset(out).to_table().sort_by([("pack", "ascending"), ("pair", "ascending")])
    fg, bg, score = join(table, ids, feats)
    cols = {name: table[name].to_pylist() for name in ("pack", "pair", "fg_id", "bg_id", "quality01", "rank", "split")}
    jpath, cpath = work / "pairs.jsonl", work / "pairs.csv"
    with open(jpath, "w") as jf, open(cpath, "w", newline="") as cf:
        w = csv.writer(cf)
        w.writerow(["pack", "pair", "fg_id", "bg_id", "score", "quality01", "rank", "split"] + [f"fg_{k}" for k in range(64)] + [f"bg_{k}" for k in range(64)])
        for i in range(len(score)):
            f, b = [round(float(x), 6) for x in fg[i]], [round(float(x), 6) for x in bg[i]]
            row = {k: v[i] for k, v in cols.items()}
            row.update(score=round(float(score[i]), 6), fg_features=f, bg_features=b)
            jf.write(json.dumps(row) + "\n")
            w.writerow([row["pack"], row["pair"], row["fg_id"], row["bg_id"], row["score"], round(row["quality01"], 6), row["rank"], row["split"], *f, *b])
    return jpath, cpath


def read_jsonl(path: Path):
    fg, bg, score = [], [], []
    with open(path) as fh:
        for line in fh:
            row = json.loads(line)
            fg.append(row["fg_features"])
            bg.append(row["bg_features"])
            score.append(row["score"])
    return np.asarray(fg, np.float32), np.asarray(bg, np.float32), np.asarray(score, np.float32)


def read_csv(path: Path):
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [[float(x) for x in row[8:]] + [float(row[4])] for row in reader]
    arr = np.asarray(rows, np.float32)
    return arr[:, :64], arr[:, 64:128], arr[:, 128]


def read_reparse(pack: Path, limit: int):
    from aivj.ingest.readers import read_jsonl_manifest

    rows = read_jsonl_manifest(pack / "manifest.jsonl")[:limit]
    labels = read_pair_summary(pack / "pair_summary_v2.csv")
    fg = [load_preset_file(r.fg_path).features for r in rows]
    bg = [load_preset_file(r.bg_path).features for r in rows]
    score = [5 * labels[(r.pack, r.pair)] for r in rows]
    return np.stack(fg), np.stack(bg), np.asarray(score, np.float32)


def read_parquet(out: Path, top_only: bool, presets=None):
    """Pairs (all, or the top partitions) joined to preset features; ``presets`` = already loaded."""
    ids, feats = presets or training_rows(out)
    dataset = pairs_dataset(out)
    expr = (pc.field("score_bin") == 4) | (pc.field("rank_quartile") == "Q1") if top_only else None
    table = dataset.to_table(columns=["fg_id", "bg_id", "score"], filter=expr)
    return join(table, ids, feats)


def timed(fn, *args):
    t0 = time.perf_counter()
    fg, bg, score = fn(*args)
    dt = time.perf_counter() - t0
    assert fg.shape == bg.shape == (len(score), 64)
    return len(score), dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=104_040)
    ap.add_argument("--reparse-pairs", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--reuse", action="store_true", help="reuse the pack and dataset already in --workdir")
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="aivj-bench-io-"))
    pack, out = work / "aidata" / PACK, work / "dataset"
    try:
        if not (args.reuse and (out / "_summary.json").is_file()):
            t0 = time.perf_counter()
            generate(pack, args.pairs, args.workers)
            print(f"generate: {args.pairs} pairs ({2 * args.pairs} .milk files) in {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            summary = convert([pack], out, workers=args.workers, progress=False).summary
            dt = time.perf_counter() - t0
            print(f"ingest ({args.workers} workers): {summary['rows_written']} pairs, {summary['presets']} presets in {dt:.1f} s = {summary['rows_written'] / dt:.0f} pairs/s")
            jpath, cpath = export_flat(out, work)
        jpath, cpath = work / "pairs.jsonl", work / "pairs.csv"
        sizes = {"jsonl": jpath.stat().st_size, "csv": cpath.stat().st_size,
                 "parquet": sum(f.stat().st_size for f in out.rglob("*.parquet"))}  # fmt: skip
        print("sizes: " + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in sizes.items()))
        results = [
            ("JSONL (json.loads per row)", *timed(read_jsonl, jpath)),
            ("CSV (csv module)", *timed(read_csv, cpath)),
            (f"re-parse .milk ({args.reparse_pairs} pairs)", *timed(read_reparse, pack, args.reparse_pairs)),
            ("Parquet full scan + preset join", *timed(read_parquet, out, False)),
            ("Parquet filtered: score_bin=4 or Q1", *timed(read_parquet, out, True)),
        ]
        t0 = time.perf_counter()
        cached = training_rows(out)  # what a loader keeps between epochs
        print(f"presets.parquet (preset_id + features) load: {time.perf_counter() - t0:.2f} s")
        results += [
            ("Parquet full, presets in memory", *timed(read_parquet, out, False, cached)),
            ("Parquet filtered, presets in memory", *timed(read_parquet, out, True, cached)),
        ]
        base = results[0][1] / results[0][2]
        print(f"\n| reader | rows | seconds | rows/s | vs JSONL |\n| --- | ---: | ---: | ---: | ---: |")
        for name, rows, dt in results:
            print(f"| {name} | {rows} | {dt:.2f} | {rows / dt:,.0f} | {rows / dt / base:.1f}x |")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
