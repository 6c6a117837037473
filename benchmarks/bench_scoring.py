"""Pair scoring: time to score 10,000 candidate (FG, BG) pairs from a pack's cached encodings.

    .venv/bin/python benchmarks/bench_scoring.py [--presets 200] [--pairs 10000] [--threads 1 2] [--write]

Encodes ``--presets`` presets once (timed separately), then scores ``--pairs`` random ordered
pairs with DualLayerCouplingNetwork (conf/model/coupling.yaml's default size) in torch eager and
in onnxruntime (the exported pairs.onnx), at each thread count. Reports the median of 15 runs.
``--write`` puts the figures into docs/benchmarks.md under "## Pair scoring" (replacing it).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from doc_section import write_section  # noqa: E402  (benchmarks/ is run as scripts)

from aivj.inference.onnx import export_split_onnx  # noqa: E402
from coupling.nets.coupling_net import DualLayerCouplingNetwork  # noqa: E402
from tests.helpers.fake_batches import fake_presets  # noqa: E402

TARGET_MS = 50.0


def median_ms(fn, runs: int = 15) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--write", action="store_true", help="write the section into docs/benchmarks.md")
    args = ap.parse_args(argv)
    import onnxruntime as ort

    torch.manual_seed(0)
    net = DualLayerCouplingNetwork().eval()
    params = sum(p.numel() for p in net.parameters())
    p = fake_presets(args.presets, seed=1)
    fg, bg = torch.randint(0, args.presets, (args.pairs,)), torch.randint(0, args.presets, (args.pairs,))
    with tempfile.TemporaryDirectory() as tmp:
        enc_path, pair_path = export_split_onnx(net, tmp)
        onnx_kb = (enc_path.stat().st_size + pair_path.stat().st_size) / 1024
        rows = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            with torch.inference_mode():
                encode_ms = median_ms(lambda: net.encode_presets(p["static"], p["render"], p["has_render"]))
                enc = net.encode_presets(p["static"], p["render"], p["has_render"])
                torch_ms = median_ms(lambda: net.score_pairs(enc, fg, bg))
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
            sess = ort.InferenceSession(str(pair_path), so, providers=["CPUExecutionProvider"])
            feed = {"cache": enc.numpy(), "fg_idx": fg.numpy(), "bg_idx": bg.numpy()}
            ort_ms = median_ms(lambda: sess.run(None, feed))
            rows.append((threads, encode_ms, torch_ms, ort_ms))
    load = os.getloadavg()[0]
    lines = [
        "## Pair scoring", "",
        f"Date {time.strftime('%Y-%m-%d')}; machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load:.1f} when measured (other jobs running raise every figure). torch {torch.__version__}, "
        f"onnxruntime {ort.__version__}. Command: `.venv/bin/python benchmarks/bench_scoring.py --presets {args.presets}"
        f" --pairs {args.pairs} --threads {' '.join(map(str, args.threads))} --write`.", "",
        f"DualLayerCouplingNetwork, default config ({params:,} parameters, ONNX {onnx_kb:.0f} KB): {args.pairs:,} random"
        f" ordered pairs from a pack of {args.presets} presets whose encodings are cached. Median of 15 runs; target"
        f" < {TARGET_MS:.0f} ms per {args.pairs:,} pairs.", "",
        "| threads | encode pack (ms) | score pairs, torch (ms) | score pairs, onnxruntime (ms) |",
        "| --- | --- | --- | --- |",
        *[f"| {t} | {e:.1f} | {tm:.1f} | {o:.1f} |" for t, e, tm, o in rows], "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("Pair scoring", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
