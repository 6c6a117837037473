"""Similar-template search: queries/s at 1k, 100k and 1M templates, exact (numpy, faiss flat) and faiss IVF.

    .venv/bin/python benchmarks/bench_market.py [--sizes 1000 100000 1000000] [--threads 1] [--write]

Templates are pairs of real presets (rows of data/default's presets.parquet drawn at random), on the
market's feature space (``aivj.market.similarity``: 64 static features z-scored per layer, FG and BG
concatenated: 128 dims); queries are other random pairs. For each size: build time, queries/s one
query at a time (what a request does) and in batches of 64, and recall@10 of the IVF index against
the exact answer (``nprobe`` as conf/market/default.yaml). BLAS and faiss get ``--threads`` threads.
``--write`` puts the table into docs/benchmarks.md under "## Market: similar-template search".
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from aivj.contract.layout import read_presets  # noqa: E402
from aivj.contract.schema import FEATURE_DIM  # noqa: E402
from aivj.market.similarity import ExactIndex, FaissIndex, FeatureSpace  # noqa: E402

from doc_section import write_section  # noqa: E402  (benchmarks/ is run as scripts)

HEADING = "Market: similar-template search (`aivj market search`, `/api/templates/{id}/similar`)"
K, BATCH = 10, 64


def pairs(static: np.ndarray, n: int, rng) -> np.ndarray:
    space = FeatureSpace.fit(static)
    fg, bg = rng.integers(0, len(static), n), rng.integers(0, len(static), n)
    return space.pair(static[fg], static[bg])


def rate(index, queries: np.ndarray, batch: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(queries), batch):
        index.search(queries[i : i + batch], K)
    return len(queries) / (time.perf_counter() - t0)


class FaissFlat:
    kind = "faiss flat"

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss

        self.index = faiss.IndexFlatL2(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, q, k):
        return self.index.search(np.ascontiguousarray(q, dtype=np.float32), k)


def measure(templates: np.ndarray, queries: np.ndarray, nprobe: int) -> list[dict]:
    rows, truth = [], None
    singles = queries[: max(20, min(len(queries), int(2e7 / len(templates))))]  # ~the same time per size
    for name, make in (
        ("numpy exact", ExactIndex),
        ("faiss flat (exact)", FaissFlat),
        ("faiss IVF", lambda v: FaissIndex(v, nprobe)),
    ):
        t0 = time.perf_counter()
        index = make(templates)
        build = time.perf_counter() - t0
        _, found = index.search(queries, K)
        if truth is None:
            truth, recall = found, 1.0
        else:
            recall = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(found, truth)]))
        rows.append(
            {
                "method": name,
                "build_s": build,
                "single": rate(index, singles, 1),
                "batched": rate(index, queries, BATCH),
                "recall": recall,
            }
        )
        del index
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--nprobe", type=int, default=32)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    static = np.asarray(read_presets(ROOT / "data" / "default", ["features"])["features"].combine_chunks().values, np.float32)
    static = static.reshape(-1, FEATURE_DIM)
    table = []
    with threadpool_limits(args.threads):
        for n in args.sizes:
            load = os.getloadavg()[0]
            for row in measure(pairs(static, n, rng), pairs(static, args.queries, rng), args.nprobe):
                table.append({"n": n, "load": load, **row})
                r = table[-1]
                print(f"{n:>9,} {r['method']:<20} build {r['build_s']:7.2f} s  single {r['single']:9.1f} q/s  batched {r['batched']:9.1f} q/s  recall@{K} {r['recall']:.3f}  (load {load:.1f})", flush=True)  # fmt: skip
    if args.write:
        write_section(HEADING, document(table, args))
    return 0


def document(table: list[dict], args) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {HEADING}",
        "",
        f"- Date {now}; machine: {platform.machine()}, {os.cpu_count()} cores, shared with other sessions "
        f"(1-minute load average per size in the table); numpy {np.__version__}, faiss {__import__('faiss').__version__}, "
        f"{args.threads} thread(s) for BLAS and faiss.",
        f"- Command: `.venv/bin/python benchmarks/bench_market.py --sizes {' '.join(map(str, args.sizes))} --threads {args.threads} --write`.",
        f"- Templates: random pairs of data/default's presets on the market's feature space (128 dims); {args.queries} "
        f"other random pairs as queries, k = {K}; 'single' = one query a call (a request), 'batched' = {BATCH} a call; "
        f"recall@{K} of each method against numpy exact; IVF: sqrt(n) lists, nprobe {args.nprobe}.",
        "",
        "| templates | load | method | build (s) | queries/s single | queries/s batched | recall@10 |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in table:
        lines.append(
            f"| {r['n']:,} | {r['load']:.1f} | {r['method']} | {r['build_s']:.2f} | {r['single']:,.0f} | {r['batched']:,.0f} | {r['recall']:.3f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
