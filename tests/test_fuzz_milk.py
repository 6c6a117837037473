"""Property-based fuzzing of the .milk parser: only MilkParseError ever escapes, and what parses round-trips."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aivj.milk.parser import MilkParseError, MilkPreset, parse_milk

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_refuse(data) -> MilkPreset | None:
    try:
        preset = parse_milk(data, "fuzz.milk")
    except MilkParseError as exc:
        assert "fuzz.milk" in str(exc) and "\n" not in str(exc)  # one line naming the file
        return None
    assert isinstance(preset, MilkPreset)
    preset.semantic()  # building the structure must not fail either
    return preset


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_refused(data):
    _parse_or_refuse(data)


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=2000))
def test_any_text_parses_or_is_refused(text):
    _parse_or_refuse(text)


_KEY = st.sampled_from(
    [
        "fRating",
        "fDecay",
        "zoom",
        "rot",
        "warp",
        "cx",
        "wave_r",
        "nWaveMode",
        "bAdditiveWaves",
        "ob_size",
        "fGammaAdj",
        "MILKDROP_PRESET_VERSION",
        "PSVERSION",
    ]
)
_VALUE = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.4f}"),
    st.text(alphabet=string.ascii_letters + string.digits + "._-+*/()", max_size=12),
)
_CODE = (
    st.text(alphabet=string.ascii_lowercase + string.digits + " =+-*/();.", min_size=1, max_size=30).map(str.strip).filter(bool)
)


@st.composite
def presets(draw) -> str:
    """Preset text from MilkDrop's grammar: base values, code lines, custom waves and shapes, shader lines."""
    lines = ["[preset00]"]
    lines += [f"{k}={v}" for k, v in draw(st.lists(st.tuples(_KEY, _VALUE), max_size=12))]
    for block in ("per_frame_init", "per_frame", "per_pixel"):
        lines += [f"{block}_{i}={c}" for i, c in enumerate(draw(st.lists(_CODE, max_size=4)), 1)]
    for kind, sections in (("wave", ("init", "per_frame", "per_point")), ("shape", ("init", "per_frame"))):
        for k in draw(st.sets(st.integers(0, 3), max_size=2)):
            lines.append(f"{kind}code_{k}_enabled={draw(st.sampled_from(['0', '1']))}")
            for sec in sections:
                lines += [f"{kind}_{k}_{sec}{i}={c}" for i, c in enumerate(draw(st.lists(_CODE, max_size=2)), 1)]
    for shader in ("warp", "comp"):
        lines += [f"{shader}_{i}=`{c}" for i, c in enumerate(draw(st.lists(_CODE, max_size=3)), 1)]
    return "\n".join(draw(st.permutations(lines[1:])) if draw(st.booleans()) else lines[1:]).join(["[preset00]\n", "\n"])


@FUZZ
@given(presets())
def test_parse_of_to_text_round_trips(text):
    preset = parse_milk(text, "fuzz.milk")
    again = parse_milk(preset.to_text(), "fuzz.milk")
    assert again.semantic() == preset.semantic()
    assert again.to_text() == preset.to_text()  # writing is a fixed point after one round
