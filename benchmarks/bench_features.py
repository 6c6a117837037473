"""Parse + feature extraction speed on one core, and the process pool over a folder.

    python benchmarks/bench_features.py [--folder /usr/share/projectM/presets] [--repeat 3] [--workers 2] [--against REV]

Prints presets/s for: one core over the Debian presets (files read into memory first, so this
is parse + features only), one core over synthetic MilkDrop 2 presets, and the pool reading
files from disk. CPU time of the process is reported beside wall time because the machine is shared.

References measured in the same run, because the machine is shared: a CPU yardstick
(``sum(range(10**6))``, 20 ms of CPU on the quiet 2-core VM where the 5,000 presets/s target and the
3,500/s baseline were set), which scales the rate to that quiet core; and with ``--against REV`` the
parser and features of git revision REV (e.g. 137848f, before the speed work), timed interleaved
with today's code on the same files, as a ratio. Today's code is timed twice: with its compiled
tokenizer and feature counts (aivj/milk/_milkscan.c, _milkcount.c) and with its pure-Python fallback
(``features.pure_python()``, what runs when the C parts are not built), so the C parts' gain is a ratio too.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from aivj.milk import parser
from aivj.milk.batch import load_preset_files, milk_files
from aivj.milk.features import extract_features, pure_python
from aivj.milk.parser import parse_milk
from aivj.milk.synthetic import synthetic_preset


def one_core(blobs: list[bytes], repeat: int) -> tuple[float, float]:
    """Best-of-``repeat`` presets/s by wall clock and by process CPU time."""
    best_wall = best_cpu = 0.0
    for _ in range(repeat):
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        for data in blobs:
            extract_features(parse_milk(data))
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        best_wall, best_cpu = max(best_wall, len(blobs) / wall), max(best_cpu, len(blobs) / cpu)
    return best_wall, best_cpu


QUIET_YARDSTICK_S = 0.020  # sum(range(10**6)) on the quiet machine of the 3,500/s baseline (docs/benchmarks.md)


def yardstick() -> float:
    """Best-of-5 CPU seconds of a fixed pure-Python loop: how fast this core is right now."""
    best = float("inf")
    for _ in range(5):
        c0 = time.process_time()
        sum(range(10**6))
        best = min(best, time.process_time() - c0)
    return best


def modules_at(rev: str):
    """(parse_milk, extract_features) of git revision ``rev``: its aivj/milk/*.py loaded under other module
    names (a C part of REV is not built, so REV's code runs its pure-Python fallback if it has one)."""
    root = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp(prefix="aivj-bench-rev-"))
    git = ["git", "-C", str(root)]
    names = subprocess.run([*git, "ls-tree", "--name-only", rev, "aivj/milk/"], capture_output=True, text=True, check=True)
    for path in names.stdout.split():
        if path.endswith(".py") and not path.endswith("__init__.py"):
            text = subprocess.run([*git, "show", f"{rev}:{path}"], capture_output=True, text=True, check=True).stdout
            for old, new in (("from aivj.milk.", "from _rev_milk."), ("import aivj.milk.", "import _rev_milk."), ("from aivj.milk import", "from _rev_milk import")):  # fmt: skip
                text = text.replace(old, new)
            (tmp / Path(path).name).write_text(text)
    package = importlib.util.module_from_spec(importlib.util.spec_from_loader("_rev_milk", loader=None, is_package=True))
    package.__path__ = [str(tmp)]
    sys.modules["_rev_milk"] = package
    parser_rev, features_rev = (importlib.import_module(f"_rev_milk.{name}") for name in ("parser", "features"))
    return parser_rev.parse_milk, features_rev.extract_features


def interleaved(blobs: list[bytes], rev: str | None, repeat: int) -> dict[str, float]:
    """Best CPU presets/s of REV's code (when given), today's compiled code and today's pure-Python
    fallback, timed alternately on the same blobs."""
    today = (parse_milk, extract_features)
    runs = {"compiled": (*today, nullcontext), "pure Python": (*today, pure_python)}
    if rev:
        runs = {rev: (*modules_at(rev), nullcontext), **runs}
    best = dict.fromkeys(runs, 0.0)
    for _ in range(repeat):
        for key, (parse, features, mode) in runs.items():
            with mode():
                gc.collect()
                c0 = time.process_time()
                for data in blobs:
                    features(parse(data))
                best[key] = max(best[key], len(blobs) / (time.process_time() - c0))
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", type=Path, default=Path("/usr/share/projectM/presets"))
    ap.add_argument("--synthetic", type=int, default=4000, help="synthetic presets to time")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--against", default=None, help="git revision whose parser + features to time beside today's (e.g. 137848f)")
    args = ap.parse_args(argv)
    scale = yardstick() / QUIET_YARDSTICK_S
    print(
        f"yardstick: sum(range(10**6)) {scale * QUIET_YARDSTICK_S * 1e3:.1f} ms CPU (quiet reference {QUIET_YARDSTICK_S * 1e3:.0f} ms): x{scale:.2f}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    files = milk_files(args.folder) if args.folder.is_dir() else []
    if files:
        blobs = [f.read_bytes() for f in files]
        size = sum(map(len, blobs)) / len(blobs)
        wall, cpu = one_core(blobs, args.repeat)
        print(
            f"debian   one core: {wall:8.0f} presets/s wall, {cpu:8.0f} presets/s cpu, {cpu * scale:8.0f}/s on the quiet yardstick core (target 5,000)  ({len(blobs)} files, {size / 1024:.1f} KiB avg)"
        )
        try:
            rates = interleaved(blobs, args.against, args.repeat)
        except (subprocess.CalledProcessError, FileNotFoundError) as err:  # no git, or a clone without that revision
            print(f"debian   one core, interleaved: revision {args.against} not available ({err}); timed without it")
            rates = interleaved(blobs, None, args.repeat)
        compiled, pure = rates["compiled"], rates["pure Python"]
        line = f"today compiled {compiled:8.0f}/s cpu, pure Python {pure:8.0f}/s cpu: compiled / pure {compiled / pure:.2f}x"
        if args.against in rates:
            old = rates[args.against]
            line = f"{args.against} {old:8.0f}/s cpu, {line}; compiled / {args.against} {compiled / old:.2f}x, pure / {args.against} {pure / old:.2f}x"
        print(f"debian   one core, interleaved: {line}")
        if parser.compiled_scan is None:
            print("debian   (the C parts are not built or AIVJ_PURE_PYTHON is set: 'compiled' ran pure Python too)")
    synth = [synthetic_preset(i).to_text().encode() for i in range(args.synthetic)]
    wall, cpu = one_core(synth, args.repeat)
    with pure_python():
        _, pure = one_core(synth, args.repeat)
    size = sum(map(len, synth)) / len(synth)
    print(
        f"synthetic one core: {wall:8.0f} presets/s wall, {cpu:8.0f} presets/s cpu, {cpu * scale:8.0f}/s on the quiet yardstick core; pure Python {pure:8.0f}/s cpu ({cpu / pure:.2f}x)  ({len(synth)} presets, {size / 1024:.1f} KiB avg)"
    )
    if files:
        t0 = time.perf_counter()
        records = load_preset_files(files, workers=args.workers, progress=False)
        dt = time.perf_counter() - t0
        ok = sum(r.error is None for r in records)
        print(
            f"debian   pool x{args.workers} (read+hash+parse+features from disk): {len(files) / dt:8.0f} presets/s ({ok}/{len(files)} ok)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
