"""The compiled .milk tokenizer and feature counts (aivj/milk/_milkscan.c, _milkcount.c) give exactly what the
pure-Python fallback gives: parse results, features and errors, over the Debian presets, synthetic presets,
nasty inputs and fuzzed text."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aivj.milk import features, parser
from aivj.milk.batch import milk_files
from aivj.milk.features import extract_features, pure_python
from aivj.milk.parser import MilkParseError, MilkPreset, parse_milk
from aivj.milk.synthetic import synthetic_preset
from tests.test_milk_features_reference import PRESETS

NASTY: list[bytes | str] = [
    b"",
    b"\n\n",
    b"[preset00]",
    b"[preset00]\r\nzoom=1.5\r\nrot=0.1\r\n",  # CRLF
    b"[preset00]\rzoom=1.5\rper_frame_1=x=1;\r",  # old Mac line ends
    b"[preset00]\r\r\nzoom=1\n\r\n\rrot=2",  # mixed, no trailing newline
    b"[preset00]\nzoom=1\nno equals sign here\n=7\n  = 8\n==\na==b\nper_frame_1=zoom=zoom*1.01;",
    b"  [preset00]\n   zoom = 1.2\n\tRot\t=\t0.3 \n",  # leading spaces and tabs
    b"[preset00]\nZoom=1\nZOOM=2\nzoom=3\nfDecay=0.9\nFDECAY=0.8\n",  # duplicates in different case
    b"[preset00]\nzoom=1\xff\xe9 // caf\xe9\n\xc9T\xc9=1\n[\xc9t\xc9]\n",  # not UTF-8: Latin-1, a non-ASCII key
    "[preset00]\nzoom=1 // \u201cquoted\u201d\nper_frame_1=bass=1;\n",  # beyond Latin-1: the fallback runs
    "\ufeff[preset00]\nzoom=2\n",
    b"\xef\xbb\xbf[preset00]\r\nzoom=2\r\n",  # BOM
    b"[preset00]\nzoom=1\x00\n",  # NUL: refused
    b"\x00",
    b"no section, no known key\nfoo=bar\n",
    b"no section\nzoom=1.1\nper_frame_3000=q1=1;\n",  # a known key without a section
    b"x=1\n  [indented]\n[second]\nzoom=1",
    b"[a=b]\n[ Preset01 ]\x0c\nzoom=1",
    b"[\n[]\nzoom=1",
    b"\x0bzoom=1\n\xa0rot=2\nwarp\x0c=3\n",  # whitespace str.strip knows; keys unstripped (no space or tab)
    b"\x0bzoom=1\n\xa0rot = 2\nwarp\x85=3\n\x1czoom=4\x1f\n",  # ... and stripped (a key holds a space)
    b"[preset00]\n" + b"".join(b"per_frame_%d=zoom = zoom*1.01;bass=bass_att+mid;\n" % i for i in range(3000)),
    b"[preset00]\nwavecode_0_enabled=1\nwave_0_per_frame1=r=bass*TREB_att;\nwave_1_per_frame1=sin(time)\n"
    b"shapecode_2_enabled=1\nshape_2_per_frame1=Cos(FPS)*frame\nwarp_1=`\nwarp_2=`ret=mid_att;\ncomp_1=\n",
    b"[preset00]\nper_pixel_1= Z o o m =1; rot==2;decay =0.9;dx\t=1;\nper_frame_1=cx=1;CY=2;sx= =1;sy\n",
]


def _outcome(data: bytes | str):
    """Everything a parse gives: the entries in order, duplicates, section, key spellings and
    features, or the error's type and message."""
    try:
        preset = parse_milk(data, "nasty.milk")
    except MilkParseError as err:
        return ("error", type(err), str(err))
    return (
        list(preset.entries().items()),
        preset.duplicate_keys,
        preset.section,
        preset.key_case,
        extract_features(preset).tobytes(),
    )


def _assert_same(inputs) -> int:
    compared = 0
    for data in inputs:
        compiled = _outcome(data)
        with pure_python():
            fallback = _outcome(data)
        assert compiled == fallback, f"compiled and pure Python differ on {data[:80]!r}"
        compared += 1
    return compared


def test_extensions_are_built():
    # make test installs gcc and the Python headers (sysdeps) before the venv, so setup.py must have built both.
    assert parser.compiled_scan is not None and features.compiled_counts is not None, (
        "aivj/milk/_milkscan or _milkcount not built: install gcc and python3-dev (make sysdeps), "
        "then .venv/bin/pip install -c constraints.txt -e . --no-deps"
    )


def test_nasty_inputs_same_in_c_and_python():
    assert _assert_same(NASTY) == len(NASTY)
    refused = {data: _outcome(data)[2] for data in NASTY if _outcome(data)[0] == "error"}
    nul, no_key = "binary data (NUL bytes)", "no [preset00] section and no known MilkDrop key"
    assert {data: message.partition(": ")[2].partition(",")[0] for data, message in refused.items()} == {
        b"": no_key,
        b"\n\n": no_key,
        b"[preset00]\nzoom=1\x00\n": nul,
        b"\x00": nul,
        b"no section, no known key\nfoo=bar\n": no_key,
        b"\x0bzoom=1\n\xa0rot=2\nwarp\x0c=3\n": no_key,  # keys not stripped: "\x0bzoom" is no known key
    }


def test_scan_itself_same_on_nul_and_wide_text():
    # parse_milk refuses NUL before scanning; the tokenizer itself must still be safe and equal on it.
    for text in ("zoom=1\x00\nrot\x00=2\x00", "\x00", "a\x00b=\x00", "[x\x00]\nq=1"):
        assert parser.compiled_scan(text) == parser.scan_python(text)
    assert parser.compiled_scan("zoom=\u20ac") is None  # beyond Latin-1: the caller falls back
    with pytest.raises(TypeError):
        parser.compiled_scan(b"zoom=1")
    ids = features._CATEGORY_ID
    assert features.compiled_counts({"per_frame_1": "x=\u20ac"}, ids, 0) is None  # wide code: Python counts it
    assert features.compiled_counts({1: "x"}, ids, 0) is None  # not made by the parser: left to Python
    assert features.compiled_counts({"per_frame_1": "Zoom = 1;BASS_att=2"}, ids, 0) == features._code_counts_python(
        {"per_frame_1": "Zoom = 1;BASS_att=2"}, 0
    )


def test_debian_and_synthetic_presets_same_in_c_and_python():
    files = milk_files(PRESETS)
    assert len(files) > 1000, f"{PRESETS}: the Debian presets (projectm-data) are missing"
    assert _assert_same(path.read_bytes() for path in files) == len(files)
    assert _assert_same(synthetic_preset(seed).to_text() for seed in range(300)) == 300


_TRICKY = st.sampled_from(list("=[] \t\r\n\x0b\x0c\x1c\x85\xa0;`aZzoomBASSé\u20ac\x00") + ["per_frame_1", "wave_0_"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TRICKY, max_size=120).map("".join))
def test_fuzzed_text_same_in_c_and_python(text):
    assert parser.compiled_scan(text) in (None, parser.scan_python(text))
    assert _assert_same([text, "[preset00]\n" + text]) == 2


def test_pure_python_switch():
    env = dict(os.environ, AIVJ_PURE_PYTHON="1")
    code = "from aivj.milk import parser, features; print(parser.compiled_scan, features.compiled_counts)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "None"]


def test_presets_built_in_code_count_the_same():
    # Values with newlines never come out of the parser, but a preset built in code may hold them:
    # a statement ends at ';' or a newline in both versions.
    for value in ("x=1\nzoom=1", "zoom=1\r\nrot=2", "a=1;\n warp = 3 ;sx==1\nsy=1", "\n\nzoom=1", "zoom=1\n"):
        preset = MilkPreset({"per_frame_1": value, "per_pixel_1": value, "warp_1": "`" + value})
        compiled = extract_features(preset).tobytes()
        with pure_python():
            assert extract_features(preset).tobytes() == compiled, value
