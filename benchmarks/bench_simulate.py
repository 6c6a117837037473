"""Speed of ``simulate_features`` (the ``sim_*`` vector) on one core over the Debian presets.

    python benchmarks/bench_simulate.py [--folder /usr/share/projectM/presets] [--step 4]

Files are read and parsed first, so this is the simulation only. CPU time of the process is
reported beside wall time because the machine is shared with render jobs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from aivj.milk.parser import parse_milk
from aivj.milk.simulate import simulate_features


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folder", default="/usr/share/projectM/presets")
    ap.add_argument("--step", type=int, default=4, help="every n-th file (sorted)")
    args = ap.parse_args()
    presets = []
    for path in sorted(Path(args.folder).rglob("*.milk"))[:: args.step]:
        try:
            presets.append(parse_milk(path.read_bytes(), str(path)))
        except ValueError:
            continue
    for preset in presets:
        preset.base  # build the structure outside the timed loop, as the dataset build has it
    simulate_features(presets[0])
    w0, c0 = time.perf_counter(), time.process_time()
    for preset in presets:
        simulate_features(preset)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"{len(presets)} presets: {len(presets) / cpu:.0f}/s by CPU time, {len(presets) / wall:.0f}/s wall")


if __name__ == "__main__":
    main()
