"""Export time of a 1,000-pair pack: from an empty render cache, and again from the warm cache.

    .venv/bin/python benchmarks/bench_export.py [--pairs 1000] [--workers 2] [--write]

The pack is built in the user's layout from Debian presets (``aivj.export.samples``): a coupled pack,
as the generator writes one, where every pair has its own FG and BG file, so a 1,000-pair pack has
up to 2,000 distinct presets to render. The export runs as the user runs it (``aivj export
pairs-quality`` in a subprocess, the shipped champion, ``--render auto``) into a temporary frame
cache; each figure is the command's wall time, with the sidecar's render and scoring seconds.
``--write`` puts the figures into docs/benchmarks.md under "## Export: pairs-quality with renders".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aivj.export.samples import write_coupled_pack  # noqa: E402
from aivj.refinery.library import DEBIAN_PRESETS, scan  # noqa: E402

from doc_section import write_section  # noqa: E402  (benchmarks/ is run as scripts)

HEADING = "Export: pairs-quality with renders (`aivj export pairs-quality --render auto`)"


def run_export(pack: Path, cache: Path, workers: int, out: Path) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "aivj.export.cli",
        "pairs-quality",
        "--pack",
        str(pack),
        "--workers",
        str(workers),
        "--cache-dir",
        str(cache),
        "--out",
        str(out),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"export failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    meta = json.loads(out.with_name(out.name[:-5] + ".meta.json").read_text())
    return {
        "wall_s": round(wall, 1),
        "render_s": meta["seconds"]["render"],
        "score_s": meta["seconds"]["score"],
        "renders": meta["renders"],
        "pairs": meta["pairs"],
        "agreement": meta["agreement_with_refinery"],
        "line": proc.stdout.strip().splitlines()[-1],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    files = [Path(f.path) for f in scan([DEBIAN_PRESETS], "bench")][: 2 * args.pairs]
    with tempfile.TemporaryDirectory() as tmp:
        pack = write_coupled_pack(Path(tmp), files)
        cold = run_export(pack, Path(tmp) / "cache", args.workers, Path(tmp) / "cold.json")
        print("cold:", json.dumps(cold), flush=True)
        warm = run_export(pack, Path(tmp) / "cache", args.workers, Path(tmp) / "warm.json")
        print("warm:", json.dumps(warm), flush=True)
    load = os.getloadavg()
    r = cold["renders"]
    text = f"""## {HEADING}

- Date: {time.strftime("%Y-%m-%d")}. Machine: 2 cores, no GPU, Mesa llvmpipe; **the lead's render job
  (`aivj.refinery.worker` processes) was using the cores at the same time** (load average after the run
  {load[0]:.1f}), so these are upper bounds.
- Command: `.venv/bin/python benchmarks/bench_export.py --pairs {args.pairs} --workers {args.workers}`: a coupled
  pack of {cold["pairs"]["in"]} pairs in the user's layout, every pair its own FG and BG file ({r["distinct_presets"]}
  distinct Debian presets), exported with the shipped champion and `--render auto` into an empty temporary
  frame cache, then again from the warm cache. Wall time of the whole command (Python start-up and model
  load included).

| cache | wall (s) | rendering (s) | scoring (s) | rendered | cached | failed |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| empty | {cold["wall_s"]} | {cold["render_s"]} | {cold["score_s"]} | {r["rendered"]} | {r["cached"]} | {r["failed"]} |
| warm | {warm["wall_s"]} | {warm["render_s"]} | {warm["score_s"]} | {warm["renders"]["rendered"]} | {warm["renders"]["cached"]} | {warm["renders"]["failed"]} |

On that pack the model's ranking against the refinery's own score: pairwise accuracy
{cold["agreement"]["pairwise_acc"]}, Spearman {cold["agreement"]["spearman"]} ({cold["agreement"]["pairs"]} pairs without a dead layer;
these Debian presets include ones the champion trained on, so this is not the unseen figure: see
tests/test_export_render.py for presets it never saw).
"""
    print(text)
    if args.write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
