"""The 64 features stay bit-identical through speed work: every Debian preset and 2,000 synthetic
presets against digests computed with the feature code before the parser speed-up (git 137848f),
stored in tests/reference/milk_feature_digests.json (preset content hash -> sha256 of the float32 row)."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from pathlib import Path

import pytest

from aivj.milk.batch import milk_files
from aivj.milk.features import extract_features, pure_python
from aivj.milk.hashing import content_hash
from aivj.milk.parser import parse_milk
from aivj.milk.synthetic import synthetic_preset

PRESETS = Path("/usr/share/projectM/presets")

REFERENCE = json.loads((Path(__file__).parent / "reference" / "milk_feature_digests.json").read_text())


@pytest.fixture(params=["compiled", "pure_python"], autouse=True)
def implementation(request):
    """Every digest with the compiled tokenizer and feature counts, and with the pure-Python fallback."""
    with pure_python() if request.param == "pure_python" else nullcontext():
        yield request.param


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(extract_features(parse_milk(data)).tobytes()).hexdigest()[:16]


def test_debian_features_identical_to_reference():
    seen, changed = set(), []
    assert PRESETS.is_dir(), f"{PRESETS}: missing (apt-get install -y projectm-data, as for test_milk_debian.py)"
    for path in milk_files(PRESETS):
        data = path.read_bytes()
        key = content_hash(data)
        if key in REFERENCE["debian"] and key not in seen:
            seen.add(key)
            if _digest(data) != REFERENCE["debian"][key]:
                changed.append(str(path))
    # A different projectm-data release may add or drop a few files; the set must still be mostly the same one.
    assert len(seen) >= 0.95 * len(REFERENCE["debian"]), (
        f"only {len(seen)} of the {len(REFERENCE['debian'])} reference presets are installed"
    )
    assert not changed, f"{len(changed)} presets changed features, e.g. {changed[:3]}"


def test_synthetic_features_identical_to_reference():
    digest = hashlib.sha256()
    for seed in range(2000):
        digest.update(extract_features(parse_milk(synthetic_preset(seed).to_text())).tobytes())
    assert digest.hexdigest() == REFERENCE["synthetic_0_2000"]
