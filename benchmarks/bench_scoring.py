"""Pair scoring: time to score 10,000 candidate (FG, BG) pairs from a pack's cached encodings.

    .venv/bin/python benchmarks/bench_scoring.py [--presets 200] [--pairs 10000] [--threads 1 2] [--pack 2000] [--write]

Encodes ``--presets`` presets once (timed separately), then scores ``--pairs`` random ordered
pairs with DualLayerCouplingNetwork (conf/model/coupling.yaml's default size) in torch eager
(``score_pairs(..., outputs=("score",))``, with the C pair attention and without it: AIVJ_PURE_PYTHON=1)
and in onnxruntime (the exported pairs.onnx), at each thread count; and the same number of candidates as a
block, every FG of sqrt(--pairs) presets against every BG of sqrt(--pairs) others (a pack's candidates:
``score_block`` in torch, block.onnx through ``score_block_onnx`` in onnxruntime); beside a reference timed in
the same run: the naive 106k-parameter MultiheadAttention
scorer of benchmarks/bench_training.py on the same pairs (its forward, inference mode). Then a
whole pack's N x N candidates (``--pack`` presets): ``--pack-rows`` FG rows against every BG preset
are timed (torch ``score_block``, and onnxruntime's block.onnx) and the N x N time is extrapolated from
that rate. Medians of ``--runs`` runs.
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

from aivj.inference.onnx import export_block_onnx, export_split_onnx, score_block_onnx  # noqa: E402
from coupling.nets.coupling_net import DualLayerCouplingNetwork  # noqa: E402
from tests.helpers.fake_batches import fake_presets  # noqa: E402

from bench_training import NaiveCrossAttention  # noqa: E402

TARGET_MS = 50.0


def median_ms(fn, runs: int = 9) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def pure_torch(net, enc, fg, bg):
    """score_pairs without the C pair attention (coupling/nets/_pair_attention.c): the torch formula."""
    saved = os.environ.get("AIVJ_PURE_PYTHON")
    os.environ["AIVJ_PURE_PYTHON"] = "1"
    try:
        return net.score_pairs(enc, fg, bg, outputs=("score",))
    finally:  # as it was: a run started with AIVJ_PURE_PYTHON=1 stays pure Python
        if saved is None:
            del os.environ["AIVJ_PURE_PYTHON"]
        else:
            os.environ["AIVJ_PURE_PYTHON"] = saved


def pack_rate(net, enc: torch.Tensor, rows: int, session=None) -> float:
    """Pairs/s of scoring ``rows`` FG presets against every BG preset of the pack (torch ``score_block``, or
    block.onnx in ``session``)."""
    n = enc.shape[0]
    fg, bg = torch.arange(rows), torch.arange(n)
    t = time.perf_counter()
    with torch.inference_mode():
        if session is None:
            net.score_block(enc, fg, bg, outputs=("score",))
        else:
            score_block_onnx(session, enc.numpy(), fg.numpy(), bg.numpy())
    return rows * n / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--pack", type=int, default=2000, help="presets of the N x N pack (0: skip)")
    ap.add_argument("--pack-rows", type=int, default=64, help="FG rows of the pack timed (x N pairs)")
    ap.add_argument("--write", action="store_true", help="write the section into docs/benchmarks.md")
    args = ap.parse_args(argv)
    import onnxruntime as ort

    torch.manual_seed(0)
    net = DualLayerCouplingNetwork().eval()
    naive = NaiveCrossAttention().eval()
    params = sum(p.numel() for p in net.parameters())
    p = fake_presets(args.presets, seed=1)
    fg, bg = torch.randint(0, args.presets, (args.pairs,)), torch.randint(0, args.presets, (args.pairs,))
    vec = torch.cat([p["static"], p["render"], p["has_render"].float()[:, None]], -1)
    runs = args.runs
    with tempfile.TemporaryDirectory() as tmp:
        enc_path, pair_path = export_split_onnx(net, tmp)
        block_onnx = export_block_onnx(net, tmp).read_bytes()
        onnx_kb = (enc_path.stat().st_size + pair_path.stat().st_size) / 1024
        side = min(int(args.pairs**0.5), args.presets // 2)  # FG and BG sets of distinct presets
        order = torch.randperm(args.presets)
        block_fg, block_bg = order[:side], order[-side:]  # side x side candidates, about --pairs
        rows = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
            sess = ort.InferenceSession(str(pair_path), so, providers=["CPUExecutionProvider"])
            block_sess = ort.InferenceSession(block_onnx, so, providers=["CPUExecutionProvider"])
            with torch.inference_mode():
                encode_ms = median_ms(lambda: net.encode_presets(p["static"], p["render"], p["has_render"]), runs)
                enc = net.encode_presets(p["static"], p["render"], p["has_render"])
                feed = {"cache": enc.numpy(), "fg_idx": fg.numpy(), "bg_idx": bg.numpy()}
                # interleaved, so that the reference and both engines see the same machine load
                fns = {
                    "ref": lambda: naive(vec[fg], vec[bg]),
                    "ort": lambda: sess.run(None, feed),
                    "torch": lambda: net.score_pairs(enc, fg, bg, outputs=("score",)),
                    "torch_pure": lambda: pure_torch(net, enc, fg, bg),
                    "torch_block": lambda: net.score_block(enc, block_fg, block_bg, outputs=("score",)),
                    "ort_block": lambda: score_block_onnx(block_sess, feed["cache"], block_fg.numpy(), block_bg.numpy()),
                }
                times, cpu = {name: [] for name in fns}, {name: [] for name in fns}
                for r in range(runs + 1):
                    for name, fn in fns.items():
                        t, c = time.perf_counter(), time.process_time()
                        fn()
                        if r:
                            times[name].append((time.perf_counter() - t) * 1000)
                            cpu[name].append((time.process_time() - c) * 1000)
            med = {k: statistics.median(v) for k, v in times.items()}
            rows.append(
                (threads, encode_ms, med["ref"], med["torch"], statistics.median(cpu["torch"]), med["torch_pure"], med["ort"],
                 med["torch_block"], med["ort_block"], os.getloadavg()[0])
            )  # fmt: skip
    pack = None
    if args.pack:
        torch.set_num_threads(1)
        pp = fake_presets(args.pack, seed=2)
        with torch.inference_mode():
            t = time.perf_counter()
            enc = net.encode_presets(pp["static"], pp["render"], pp["has_render"])
            pack_encode_s = time.perf_counter() - t
        rate = pack_rate(net, enc, args.pack_rows)
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = 1, 1
        ort_rate = pack_rate(net, enc, args.pack_rows, ort.InferenceSession(block_onnx, so, providers=["CPUExecutionProvider"]))
        pack = (pack_encode_s, rate, args.pack**2 / rate, ort_rate)
    load = os.getloadavg()
    lines = [
        "## Pair scoring",
        "",
        f"- Date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"load average {load[0]:.1f} at the end (1 min; {load[1]:.1f} over 5 min), per row below. torch {torch.__version__}, "
        f"onnxruntime {ort.__version__}.",
        f"- Command: `.venv/bin/python benchmarks/bench_scoring.py --presets {args.presets} --pairs {args.pairs} --threads "
        f"{' '.join(map(str, args.threads))} --pack {args.pack} --pack-rows {args.pack_rows}` (also run by `make bench`).",
        f"- DualLayerCouplingNetwork, default config ({params:,} parameters, ONNX {onnx_kb:.0f} KB): {args.pairs:,} random"
        f" ordered pairs from a pack of {args.presets} presets whose encodings are cached; median of {runs} interleaved runs;"
        f" target < {TARGET_MS:.0f} ms per {args.pairs:,} pairs. Reference: the naive 106k-parameter MultiheadAttention "
        "scorer (benchmarks/bench_training.py) on the same pairs, timed between them.",
        "",
        "| threads | load | encode pack (ms) | reference (ms) | torch (ms) | torch, CPU (ms) | torch vs reference "
        "| torch without the C attention (ms) | C attention gain | onnxruntime (ms) | onnxruntime vs reference |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {t} | {ld:.1f} | {e:.1f} | {r:.0f} | {tm:.1f} | {tc:.1f} | **{r / tm:.1f}x** | {tp:.1f} | **{tp / tm:.2f}x** "
            f"| {o:.1f} | **{r / o:.1f}x** |"
            for t, e, r, tm, tc, tp, o, tb, ob, ld in rows
        ],
        "",
        f"The same count as a block of candidates, every FG of {side} presets against every BG of {side} others "
        f"({side * side:,} pairs; `score_block`, block.onnx), beside the same reference:",
        "",
        "| threads | torch block (ms) | torch block vs reference | onnxruntime block.onnx (ms) | onnxruntime block vs reference "
        "| onnxruntime block vs pairs.onnx |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {t} | {tb:.1f} | **{r / tb:.1f}x** | {ob:.1f} | **{r / ob:.1f}x** | **{o / ob:.2f}x** |"
            for t, e, r, tm, tc, tp, o, tb, ob, ld in rows
        ],
        "",
    ]
    if pack:
        enc_s, rate, total, ort_rate = pack
        lines += [
            f"Whole pack, N x N: {args.pack:,} presets = {args.pack**2:,} ordered pairs (self-pairs included), "
            f"torch, 1 thread: encoding {enc_s:.2f} s; scoring {rate:,.0f} pairs/s over {args.pack_rows} FG rows x "
            f"{args.pack:,} BG presets, so **{total:.0f} s** for the whole pack; onnxruntime's block.onnx, 1 thread: "
            f"{ort_rate:,.0f} pairs/s, **{args.pack**2 / ort_rate:.0f} s**.",
            "",
        ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("Pair scoring", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
