"""Property-based fuzzing of the one pack-manifest reader and its two views (export, refinery).

Whatever a manifest holds, reading it either raises SourceError (one line naming the file) or
returns usable rows with unique pair ids and set-aside rows with a known reason, counts reconciling.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aivj.inference.packs import read_pack
from aivj.ingest.packs import DUPLICATE, INVALID, SAME_FILE, read_pack_rows
from aivj.ingest.sources import SourceError
from aivj.refinery.packs import read_manifest

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REASONS = {INVALID, DUPLICATE, SAME_FILE}
FILES = ["fg/a.milk", "fg/b.milk", "bg/a.milk", "bg/c.milk", "missing.milk"]

_PAIR = st.one_of(
    st.integers(-5, 5),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)
_PATH = st.one_of(
    st.sampled_from(FILES), st.sampled_from([f"D:\\\\x\\\\{f}" for f in FILES]), st.text(max_size=8), st.integers(), st.none()
)
_ROW = st.fixed_dictionaries(
    {},
    optional={
        "pair": _PAIR,
        "pair_id": _PAIR,
        "fg": _PATH,
        "bg": _PATH,
        "warp_diff": st.one_of(st.floats(), st.text(max_size=3)),
        "cx_diff": st.floats(),
    },
)
_TEXT_LINE = st.text(alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=40)
_LINE = st.one_of(_ROW.map(json.dumps), _TEXT_LINE, st.just(""), st.just("[1, 2]"), st.just("null"))  # one line each


def _check(pack: Path) -> None:
    try:
        read = read_pack_rows(pack)
    except SourceError as exc:
        assert "\n" not in str(exc) and str(pack.resolve()) in str(exc)
        return
    ids = [r.pair for r in read.rows]
    assert len(ids) == len(set(ids))  # no pair id twice, ever
    assert all(isinstance(i, int) and not isinstance(i, bool) and -(2**63) <= i < 2**63 for i in ids)
    assert all(s["reason"] in REASONS for s in read.set_aside)
    assert all(r.fg_path is None or r.fg_path != r.bg_path for r in read.rows)
    assert read.rows_in == len(read.rows) + len(read.set_aside)
    assert [p[0] for p in read_pack(pack).pairs] == ids == [r["pair"] for r in read_manifest(pack)]  # one reader


def _pack(root: Path) -> Path:
    pack = root / "pack"
    for f in FILES[:-1]:
        (pack / f).parent.mkdir(parents=True, exist_ok=True)
        (pack / f).write_text("[preset00]\nzoom=1\n")
    return pack


@FUZZ
@given(st.lists(_LINE, max_size=12))
def test_jsonl_manifests(lines):
    with tempfile.TemporaryDirectory() as tmp:
        pack = _pack(Path(tmp))
        (pack / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        _check(pack)
        blank = sum(1 for line in lines if not line.strip())
        assert read_pack_rows(pack).rows_in == len(lines) - blank  # every non-blank line counted once


@FUZZ
@given(st.binary(max_size=600))
def test_garbage_manifest_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        pack = _pack(Path(tmp))
        (pack / "manifest.jsonl").write_bytes(data)
        _check(pack)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
)


@FUZZ
@given(st.one_of(_JSON, st.fixed_dictionaries({"pack": _JSON, "pairs": st.lists(st.one_of(_ROW, _JSON), max_size=6)})))
def test_web_manifests(doc):
    with tempfile.TemporaryDirectory() as tmp:
        pack = _pack(Path(tmp))
        (pack / "pairs-manifest.v0.json").write_text(json.dumps(doc), encoding="utf-8")
        _check(pack)
