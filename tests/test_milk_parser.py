"""The .milk parser: encodings, line endings, duplicates, invalid files, sections, round trip."""

from __future__ import annotations

import pytest

from aivj.milk.parser import MilkParseError, parse_milk
from aivj.milk.synthetic import synthetic_preset

SAMPLE = """MILKDROP_PRESET_VERSION=201
PSVERSION=2
[preset00]
fRating=3.0
fDecay=0.95
zoom=1.02
Warp=2.5
per_frame_2=rot = rot + 0.1*bass;
per_frame_1=zoom = zoom + 0.01*sin(time);
per_pixel_1=zoom = zoom + rad*0.01;
per_frame_init_1=q1 = 0;
wavecode_0_enabled=1
wavecode_0_bSpectrum=1
wave_0_per_point1=x = sample; y = 0.5 + value1;
wave_0_init1=t1 = 0;
shapecode_1_enabled=1
shapecode_1_sides=6
shape_1_per_frame1=ang = time;
warp_1=`shader_body {
warp_2=`   ret = tex2D(sampler_main, uv).xyz;
warp_3=`}
comp_1=`shader_body { ret = tex2D(sampler_main, uv).xyz; }
"""


def test_sections_and_code_are_routed():
    p = parse_milk(SAMPLE, "x/Sample One.milk")
    assert p.name == "Sample One"
    assert p.header == {"milkdrop_preset_version": "201", "psversion": "2"}
    assert p.base["fdecay"] == "0.95" and p.base["warp"] == "2.5"
    assert p.per_frame == ["zoom = zoom + 0.01*sin(time);", "rot = rot + 0.1*bass;"]  # numeric order
    assert p.per_pixel == ["zoom = zoom + rad*0.01;"] and p.per_frame_init == ["q1 = 0;"]
    assert p.waves[0].params["bspectrum"] == "1" and p.waves[0].enabled
    assert p.waves[0].code == {"per_point": ["x = sample; y = 0.5 + value1;"], "init": ["t1 = 0;"]}
    assert p.shapes[1].code["per_frame"] == ["ang = time;"] and p.shapes[1].params["sides"] == "6"
    assert p.warp == ["shader_body {", "   ret = tex2D(sampler_main, uv).xyz;", "}"]  # backtick gone, indent kept
    assert len(p.comp) == 1 and p.duplicate_keys == 0


def test_crlf_bom_and_latin1_give_the_same_preset():
    plain = parse_milk(SAMPLE)
    crlf = parse_milk(b"\xef\xbb\xbf" + SAMPLE.replace("\n", "\r\n").encode())
    assert crlf.semantic() == plain.semantic()
    latin = parse_milk(SAMPLE.replace("q1 = 0;", "q1 = 0; // caf\xe9").encode("latin-1"))
    assert latin.per_frame_init == ["q1 = 0; // caf\xe9"]


def test_duplicate_keys_last_wins_and_are_counted():
    p = parse_milk("[preset00]\nzoom=1.0\nzoom=1.5\nZOOM=2.0\nper_frame_1=a=1;\nper_frame_1=a=2;\n")
    assert p.base["zoom"] == "2.0" and p.per_frame == ["a=2;"]
    assert p.duplicate_keys == 3


@pytest.mark.parametrize(
    "data",
    [b"", b"hello world\nthis is not a preset\n", b"foo=1\nbar=2\n", b"\x00\x01\x02binary\x00", "just text".encode("utf-16")],
)
def test_invalid_files_raise_an_error_naming_the_file(data):
    with pytest.raises(MilkParseError, match="bad.milk"):
        parse_milk(data, "some/bad.milk")


def test_no_section_but_known_keys_is_a_preset():
    p = parse_milk("fDecay=0.9\nzoom=1.1\n")
    assert p.section is None and p.base["zoom"] == "1.1"
    assert "[preset00]" in p.to_text()


def test_unusual_keys_take_the_slow_route():
    p = parse_milk("[preset00]\nper_frame_2500=a=1;\nwavecode_7_enabled=1\nwave_7_per_frame3=b=2;\nmy_custom=5\n")
    assert p.per_frame == ["a=1;"] and p.waves[7].enabled and p.waves[7].code["per_frame"] == ["b=2;"]
    assert p.base["my_custom"] == "5"


def test_round_trip_is_equivalent_and_keeps_spelling():
    p = parse_milk(SAMPLE)
    text = p.to_text()
    assert "Warp=2.5" in text and "wavecode_0_bSpectrum=1" in text and "warp_2=`   ret" in text
    assert parse_milk(text).semantic() == p.semantic()


def test_edits_after_parsing_show_in_text_and_entries():
    p = parse_milk(SAMPLE)
    p.base["zoom"] = "0.5"
    p.per_frame.append("cx = 0.4;")
    q = parse_milk(p.to_text())
    assert q.base["zoom"] == "0.5" and q.per_frame[-1] == "cx = 0.4;"
    assert p.entries()["per_frame_3"] == "cx = 0.4;"


@pytest.mark.parametrize("seed", range(20))
def test_synthetic_presets_round_trip(seed):
    p = synthetic_preset(seed)
    assert parse_milk(p.to_text()).semantic() == p.semantic()
