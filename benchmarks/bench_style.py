"""Music style model latency: one window and a batch in onnxruntime on one core, the front end, the model size.

    .venv/bin/python benchmarks/bench_style.py [--model champion] [--batch 32] [--runs 200] [--write]

For the CNN+LSTM and the CNN-only graph (the style champion's weights where its architecture matches,
else an untrained network of the same shape: latency does not depend on the weights), exports ONNX
(aivj/style/onnx.py), then times onnxruntime with one intra-op thread: one window [1, 64, 128]
and a batch; beside it torch eager on one thread (the reference timed in the same run) and the
front end of one 2.97 s window (STFT, mel, live features; aivj/style/features.py). Medians of
``--runs``. The plan's bar is 100 ms a window; the aim 10 ms. ``--write`` puts the figures into
docs/benchmarks.md under "## Music style model" (replacing it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

# one core means one BLAS thread too: NumPy's OpenBLAS pool spins against the rest of a busy machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from doc_section import write_section  # noqa: E402  (benchmarks/ is run as scripts)

from aivj.style.features import FeatureSpec, windows  # noqa: E402
from aivj.style.module import StyleModule  # noqa: E402
from aivj.style.onnx import example_inputs, export_style_onnx  # noqa: E402


def timings_ms(fn, runs: int) -> list[float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def median_ms(fn, runs: int) -> float:
    return statistics.median(timings_ms(fn, runs))


def models(spec: str) -> list[tuple[str, StyleModule]]:
    champion = None
    try:
        from aivj.style.store import load_style_model

        champion, label = load_style_model(spec)
    except Exception as exc:  # noqa: BLE001 - no champion yet: untrained networks of the same shape
        print(f"no style model {spec!r} ({exc}); timing untrained networks")
    out = []
    for arch in ("cnn_lstm", "cnn"):
        if champion is not None and champion.hparams.arch == arch:
            out.append((f"{arch} ({label})", champion))
        else:
            torch.manual_seed(0)
            out.append((f"{arch} (untrained)", StyleModule(arch=arch).eval()))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="champion")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--write", action="store_true")
    args = p.parse_args()
    import onnxruntime as ort

    torch.set_num_threads(1)
    spec = FeatureSpec()
    audio = np.random.default_rng(0).normal(0, 0.1, int(spec.window_seconds * spec.sample_rate)).astype(np.float32)
    front_ms = median_ms(lambda: windows(audio, spec), args.runs)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in models(args.model):
            out = export_style_onnx(model, Path(tmp) / f"{model.hparams.arch}.onnx")
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
            session = ort.InferenceSession(out["path"], options, providers=["CPUExecutionProvider"])
            feeds = lambda n: {k: v.numpy() for k, v in zip(out["inputs"], example_inputs(spec, n, len(out["inputs"]) == 2))}
            one, many = feeds(1), feeds(args.batch)
            single = timings_ms(lambda: session.run(["probs"], one), args.runs)
            ort_one, ort_p90 = statistics.median(single), float(np.percentile(single, 90))
            ort_batch = median_ms(lambda: session.run(["probs"], many), max(10, args.runs // 10))
            tensors = example_inputs(spec, 1, len(out["inputs"]) == 2)
            with torch.inference_mode():
                torch_one = median_ms(lambda: model.net(*tensors), args.runs)
            rows.append((name, out["size_kb"], ort_one, ort_p90, ort_batch / args.batch, torch_one))
    load = os.getloadavg()[0]
    lines = [
        "## Music style model",
        "",
        f"`.venv/bin/python benchmarks/bench_style.py` on {datetime.date.today()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load {load:.1f}; one intra-op thread; medians of {args.runs} runs. Front end (STFT, "
        f"mel, live features) of one 2.97 s window: {front_ms:.2f} ms. Bar: 100 ms a window (plan), aim 10 ms.",
        "",
        f"| graph | ONNX size | onnxruntime, 1 window: median (p90) | onnxruntime, batch {args.batch} (per window) | torch eager, 1 window |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {n} | {kb:.0f} KB | {a:.2f} ms ({p90:.2f} ms) | {b:.2f} ms | {t:.2f} ms ({t / a:.1f}x onnxruntime) |"
        for n, kb, a, p90, b, t in rows
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("Music style model", text)


if __name__ == "__main__":
    main()
