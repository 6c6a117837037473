"""kill -9 in the middle of promotions: the champion pointer is always the old or the new version."""

from __future__ import annotations

import random
import subprocess
import sys
import time

from aivj.registry import Registry

PROMOTER = """
import sys
from aivj.registry.store import Registry
reg = Registry(sys.argv[1])
a, b = sys.argv[2], sys.argv[3]
print("ready", flush=True)
i = 0
while True:
    reg.set_champion(a if i % 2 else b, "crash test")
    i += 1
"""


def test_kill_9_during_promotion_never_breaks_the_pointer(tmp_path):
    reg = Registry(tmp_path / "models")
    versions = []
    for name in ("a", "b"):
        ckpt = tmp_path / f"{name}.ckpt"
        ckpt.write_bytes(name.encode() * 1000)
        versions.append(reg.add_version(ckpt, {"metrics.json": "{}"}, {}))
    reg.set_champion(versions[0], "start")
    rng = random.Random(1234)
    seen = set()
    for _ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", PROMOTER, str(reg.root), *versions], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))
        proc.kill()  # SIGKILL
        proc.wait()
        assert proc.returncode == -9
        champion = Registry(reg.root).champion()  # raises on a broken pointer
        assert champion in versions
        seen.add(champion)
        assert reg.verify() == []
        assert (reg.root / "champion").read_text() == champion + "\n"
    history = reg.history()
    assert len(history) > 10 and all(row["champion"] in versions for row in history)
    # The pointer kept changing under the kills (both versions were champion at some kill).
    assert seen == set(versions)
