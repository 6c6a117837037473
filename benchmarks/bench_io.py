"""I/O benchmark: one 104,040-pair dataset in the project's layout read several ways, in one run.

    python benchmarks/bench_io.py [--pairs 104040] [--workdir DIR] [--keep] [--reuse] [--ingest]

1. Builds the dataset: 208,080 distinct presets (features of parsed synthetic MilkDrop 2 presets,
   jittered so no two rows are equal, as with real distinct presets) and 104,040 pairs written by
   ``write_dataset`` (presets.parquet + .presets.arrow + hive-partitioned pairs/). ``--ingest``
   instead writes a coupled pack like ``aivj_coupled_refinery_v2`` (one .milk file per preset,
   manifest.jsonl, pair_summary_v2.csv) and ingests it (``aivj.ingest.convert``): minutes.
2. Exports the same training rows (pair fields + FG and BG feature vectors) as flat JSONL and CSV.
3. Times, on one process, loading the training arrays (fg[N,64], bg[N,64], score[N]) from: JSONL
   (the reference: every ratio is to the JSONL rate measured in this run), CSV, re-parsing .milk
   files (``--reparse-pairs`` pairs; rate per pair), and Parquet through the datamodule's readers
   (``PresetTable.load``: the memory-mapped .presets.arrow, or presets.parquet without it;
   ``scan_pairs``: score plus the preset rows stored in the pairs files (layout 3), or as layout 2
   the string ids joined by ``PresetTable.index_of``), cold (nothing in memory) and warm (the
   presets table already loaded, as between epochs), full and filtered to the top partitions
   (``score_bin=4`` or ``rank_quartile=Q1``), "dense" (fg/bg gathered with ``np.take``) or "rows"
   (the preset rows and the score: what training keeps); then the whole datamodule load
   (``PresetTable.load`` + ``load_splits``). Files were just written: all reads hit the page cache.
Wall and process CPU seconds are both printed (best of 7; JSONL best of 2) because the machine may
be shared; the ratios are to JSONL measured in the same run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from aivj.contract.layout import (
    PRESETS_IPC,
    pairs_dataset,
    ranks_within_pack,
    score_bins,
    write_dataset,
    write_presets_ipc,
)
from aivj.contract.schema import FEATURE_DIM, SPLITS
from aivj.ingest.convert import convert
from aivj.ingest.labels import read_pair_summary
from aivj.milk.batch import load_preset_file
from aivj.milk.features import extract_features
from aivj.milk.parser import parse_milk
from aivj.milk.synthetic import synthetic_preset
from datamodules.pairs import PresetTable, load_splits, scan_pairs

PACK = "aivj_coupled_refinery_v2"


def _write_chunk(args: tuple[str, int, int]) -> list[str]:
    pack, start, stop = args
    lines = []
    for i in range(start, stop):
        stem = f"coupled_{i:06d}_20260129_015409"
        for side, seed in (("fg", 2 * i), ("bg", 2 * i + 1)):
            Path(pack, side, f"{stem}_{side}.milk").write_text(synthetic_preset(seed).to_text())
        lines.append(
            json.dumps(
                {"pair": i, "fg": f"/mnt/d/aidata/{PACK}/fg/{stem}_fg.milk", "bg": f"/mnt/d/aidata/{PACK}/bg/{stem}_bg.milk"}
            )
        )
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
        for i in range(n):
            w.writerow([i, 6, round(rng.betavariate(4, 3), 4), 0.2, 0.1, 0.3, 1e-4, 1e-5, 2e-4, "", 0])


def build_direct(out: Path, n_pairs: int, pool_size: int = 2000) -> None:
    """The layout of an ingested pack without the .milk files: seconds instead of minutes."""
    pool = np.stack([extract_features(parse_milk(synthetic_preset(i).to_text())) for i in range(pool_size)])
    rng = np.random.default_rng(0)
    n = 2 * n_pairs
    feats = pool[rng.integers(0, pool_size, n)]
    # Distinct presets have distinct continuous values: jitter them so the column encodes like real data.
    jitter = 1 + 1e-4 * rng.standard_normal(feats.shape, dtype=np.float32)
    feats = np.where((feats != 0) & (feats != 1), feats * jitter, feats).astype(np.float32)
    ids = np.array([hashlib.sha256(str(i).encode()).hexdigest()[:20] for i in range(n)])
    presets = pa.table({"preset_id": ids, "features": pa.FixedSizeListArray.from_arrays(pa.array(feats.ravel()), FEATURE_DIM),
                        "feature_version": np.ones(n, np.int16), "name": [f"coupled_{i // 2:06d}_{('fg', 'bg')[i % 2]}" for i in range(n)],
                        "source": ["bench"] * n, "collection": [PACK] * n})  # fmt: skip
    score = (5 * rng.beta(4, 3, n_pairs)).astype(np.float32)
    pack = np.array([PACK] * n_pairs, dtype=object)
    rank, quartile = ranks_within_pack(pack, score)
    null = pa.nulls(n_pairs, pa.float32())
    pairs = pa.table({"pack": pack, "pair": np.arange(n_pairs), "fg_id": ids[0::2], "bg_id": ids[1::2], "spatial_score": null,
                      "temporal_score": null, "score": score, "quality01": score / 5, "rank": rank, "rank_quartile": quartile,
                      "score_bin": score_bins(score), "is_elite": score >= 4, "source": ["bench"] * n_pairs,
                      "split": np.array(SPLITS[:3])[np.arange(n_pairs) % 3]})  # fmt: skip
    write_dataset(presets, pairs, out)


def join(table: pa.Table, presets: PresetTable):
    """Dense training arrays: each pair's FG and BG features gathered through the id join."""
    fg = presets.static[presets.index_of(table["fg_id"], "pairs fg_id")]
    bg = presets.static[presets.index_of(table["bg_id"], "pairs bg_id")]
    return fg, bg, table["score"].to_numpy()


def export_flat(out: Path, work: Path) -> tuple[Path, Path]:
    table = pairs_dataset(out).to_table().sort_by([("pack", "ascending"), ("pair", "ascending")])
    fg, bg, score = join(table, PresetTable.load(out))
    cols = {name: table[name].to_pylist() for name in ("pack", "pair", "fg_id", "bg_id", "quality01", "rank", "split")}
    jpath, cpath = work / "pairs.jsonl", work / "pairs.csv"
    with open(jpath, "w") as jf, open(cpath, "w", newline="") as cf:
        w = csv.writer(cf)
        w.writerow(
            ["pack", "pair", "fg_id", "bg_id", "score", "quality01", "rank", "split"]
            + [f"fg_{k}" for k in range(64)]
            + [f"bg_{k}" for k in range(64)]
        )
        for i in range(len(score)):
            f, b = [round(float(x), 6) for x in fg[i]], [round(float(x), 6) for x in bg[i]]
            row = {k: v[i] for k, v in cols.items()}
            row.update(score=round(float(score[i]), 6), fg_features=f, bg_features=b)
            jf.write(json.dumps(row) + "\n")
            w.writerow(
                [
                    row["pack"],
                    row["pair"],
                    row["fg_id"],
                    row["bg_id"],
                    row["score"],
                    round(row["quality01"], 6),
                    row["rank"],
                    row["split"],
                    *f,
                    *b,
                ]
            )
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


def write_reparse_pack(pack: Path, n: int, workers: int) -> None:
    if not (pack / "manifest.jsonl").is_file():
        generate(pack, n, workers)


def read_reparse(pack: Path, limit: int):
    from aivj.ingest.readers import read_jsonl_manifest

    rows = read_jsonl_manifest(pack / "manifest.jsonl")[:limit]
    labels = read_pair_summary(pack / "pair_summary_v2.csv")
    fg = [load_preset_file(r.fg_path).features for r in rows]
    bg = [load_preset_file(r.bg_path).features for r in rows]
    score = [5 * labels[(r.pack, r.pair)] for r in rows]
    return np.stack(fg), np.stack(bg), np.asarray(score, np.float32)


TOP = (pc.field("score_bin") == 4) | (pc.field("rank_quartile") == "Q1")


def read_parquet(out: Path, top_only: bool, presets: PresetTable | None = None, dense: bool = True):
    """Pairs (all, or the top partitions) joined to preset features; ``presets`` = already loaded.
    ``dense``: gather fg[N, 64] and bg[N, 64]; else the preset rows (what training keeps) and the score."""
    presets = presets or PresetTable.load(out)
    table, fg, bg = scan_pairs(out, presets, ["score"], TOP if top_only else None)
    score = table["score"].to_numpy()
    if not dense:
        assert len(fg) == len(bg) == len(score)
        return None, None, score
    return np.take(presets.static, fg, axis=0), np.take(presets.static, bg, axis=0), score


def read_parquet_id_join(out: Path, top_only: bool, presets: PresetTable | None = None, dense: bool = True):
    """As a layout-2 dataset reads (no stored preset rows): the string ids scanned and joined."""
    with mock.patch("datamodules.pairs.stored_rows_current", return_value=False):
        return read_parquet(out, top_only, presets, dense)


def read_parquet_no_ipc(out: Path, top_only: bool):
    """As a dataset without .presets.arrow (older writers): presets.parquet, column-selective."""
    ipc = out / PRESETS_IPC
    hidden = ipc.rename(out / f".{PRESETS_IPC}.hidden")
    try:
        return read_parquet(out, top_only)
    finally:
        hidden.rename(ipc)


def read_datamodule(out: Path):
    """What ``CouplingDataModule.setup`` does: presets + every split's columns (indices, labels)."""
    presets = PresetTable.load(out)
    splits = load_splits(out, presets, list(SPLITS[:3]))
    cols = [s.cols for s in splits.values()]
    score = np.concatenate([c["score"] for c in cols])
    fg = np.concatenate([c["fg_idx"] for c in cols])
    assert len(fg) == len(score) and fg.max() < len(presets.ids)
    return None, None, score  # indices and labels, as training uses them: no dense gather


def timed(fn, *args, repeat: int = 7) -> tuple[int, float, float]:
    """(rows, wall seconds, process CPU seconds) of one call: the best of ``repeat`` (the machine is shared)."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fg, bg, score = fn(*args)
        best_wall, best_cpu = min(best_wall, time.perf_counter() - w0), min(best_cpu, time.process_time() - c0)
        assert fg is None or fg.shape == bg.shape == (len(score), FEATURE_DIM)
    return len(score), best_wall, best_cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=104_040)
    ap.add_argument("--reparse-pairs", type=int, default=2_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--reuse", action="store_true", help="reuse the dataset already in --workdir")
    ap.add_argument(
        "--ingest",
        action="store_true",
        help="write every .milk file and ingest them (minutes) instead of writing the layout directly",
    )
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="aivj-bench-io-"))
    out, jpath, cpath = work / "dataset", work / "pairs.jsonl", work / "pairs.csv"
    try:
        if not (args.reuse and (out / "_summary.json").is_file() and jpath.is_file()):
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            if args.ingest:
                pack = work / "aidata" / PACK
                shutil.rmtree(pack, ignore_errors=True)
                generate(pack, args.pairs, args.workers)
                print(f"generate: {args.pairs} pairs ({2 * args.pairs} .milk files) in {time.perf_counter() - t0:.1f} s")
                t0 = time.perf_counter()
                summary = convert([pack], out, workers=args.workers, progress=False).summary
                dt = time.perf_counter() - t0
                print(
                    f"ingest ({args.workers} workers): {summary['rows_written']} pairs, {summary['presets']} presets in {dt:.1f} s = {summary['rows_written'] / dt:.0f} pairs/s"
                )
            else:
                build_direct(out, args.pairs)
                print(
                    f"dataset written directly ({args.pairs} pairs, {2 * args.pairs} presets) in {time.perf_counter() - t0:.1f} s"
                )
            export_flat(out, work)
        if not (out / PRESETS_IPC).is_file():  # a folder kept from before the cache existed
            write_presets_ipc(pq.read_table(out / "presets.parquet"), out)
        reparse = work / "aidata" / PACK if args.ingest else work / "reparse" / PACK
        write_reparse_pack(reparse, args.reparse_pairs, args.workers)
        sizes = {"jsonl": jpath.stat().st_size, "csv": cpath.stat().st_size, "parquet": sum(f.stat().st_size for f in out.rglob("*.parquet")),
                 ".presets.arrow": (out / PRESETS_IPC).stat().st_size}  # fmt: skip
        print("sizes: " + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in sizes.items()))
        print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores; Parquet rows: best of 7")
        print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        results = [
            ("JSONL (json.loads per row), best of 2", *timed(read_jsonl, jpath, repeat=2)),
            ("CSV (csv module)", *timed(read_csv, cpath, repeat=1)),
            (f"re-parse .milk ({args.reparse_pairs} pairs)", *timed(read_reparse, reparse, args.reparse_pairs, repeat=1)),
            ("Parquet full scan + preset join, dense, cold (.presets.arrow)", *timed(read_parquet, out, False)),
            ("Parquet full scan + preset join, dense, cold (presets.parquet only)", *timed(read_parquet_no_ipc, out, False)),
            ("Parquet full scan + id join (layout 2), dense, cold", *timed(read_parquet_id_join, out, False)),
            ("Parquet filtered: score_bin=4 or Q1, dense, cold", *timed(read_parquet, out, True)),
            ("datamodule load: PresetTable.load + load_splits, cold", *timed(read_datamodule, out)),
        ]
        presets = PresetTable.load(out)  # what a loader keeps between epochs
        read_parquet(out, False, presets)  # first touch of the mapped pages
        read_parquet_id_join(out, False, presets)  # and of the id keys
        results += [
            ("Parquet full + preset rows, presets in memory (warm)", *timed(read_parquet, out, False, presets, False)),
            ("Parquet filtered + preset rows, presets in memory (warm)", *timed(read_parquet, out, True, presets, False)),
            ("Parquet full + id join (layout 2) rows, warm", *timed(read_parquet_id_join, out, False, presets, False)),
            ("Parquet full, dense, presets in memory (warm)", *timed(read_parquet, out, False, presets)),
            ("Parquet filtered, dense, presets in memory (warm)", *timed(read_parquet, out, True, presets)),
        ]
        print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        base_wall, base_cpu = results[0][1] / results[0][2], results[0][1] / results[0][3]
        print(
            "\n| reader | rows | wall s | CPU s | rows/s (wall) | vs JSONL (wall) | vs JSONL (CPU) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        )
        for name, rows, wall, cpu in results:
            print(
                f"| {name} | {rows:,} | {wall:.3f} | {cpu:.3f} | {rows / wall:,.0f} | {rows / wall / base_wall:.1f}x | {rows / cpu / base_cpu:.1f}x |"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
