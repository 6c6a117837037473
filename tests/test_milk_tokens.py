"""Preset tokens for the text encoder: twins tokenise the same, what MilkDrop runs changes them."""

from __future__ import annotations

import numpy as np
import pytest

from aivj.milk.parser import parse_milk
from aivj.milk.synthetic import synthetic_preset
from aivj.milk.tokens import MAX_TOKENS, NUMBER, SECTION_CAPS, SECTIONS, VOCAB_SIZE, pad_batch, tokenize_entries

PRESET = """[preset00]
fRating=3.000000
fDecay=0.980000
zoom=1.010000
per_frame_1=wave_r = 0.5 + 0.5*sin(time);
per_frame_2=zoom = zoom + 0.01*bass; // pulse
wavecode_0_enabled=1
wavecode_0_r=0.5
wave_0_per_point1=x = sample; y = value1;
wavecode_1_enabled=0
wavecode_1_g=0.7
wave_1_per_point1=x = 0.3;
comp_1=`shader_body {
comp_2=`ret = tex2D(sampler_main, uv).xyz * 2;
"""


def tokens(text: str):
    return tokenize_entries(parse_milk(text, "t.milk").entries())


def same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_a_resaved_preset_tokenises_the_same():
    resaved = ("MILKDROP_PRESET_VERSION=201\n" + PRESET.replace("fRating=3.000000", "fRating=5")
               .replace("// pulse", "").replace("per_frame_1=", "per_frame_4=").replace("per_frame_2=", "per_frame_8="))  # fmt: skip
    assert same(tokens(resaved), tokens(PRESET))


@pytest.mark.parametrize("change", [("zoom=1.010000", "zoom=1.5"), ("0.01*bass", "0.01*treb"), ("* 2;", "* 3;"),
                                    ("wavecode_1_enabled=0", "wavecode_1_enabled=1")])  # fmt: skip
def test_what_milkdrop_runs_changes_the_tokens(change):
    assert not same(tokens(PRESET.replace(*change)), tokens(PRESET))


def test_sections_values_and_disabled_waves():
    ids, values, sections = tokens(PRESET)
    named = [SECTIONS[s] for s in sections]
    assert {"base", "per_frame", "wave_params", "wave_code", "comp"} <= set(named)
    assert "shape_code" not in named and "warp" not in named
    # the disabled wave 1 contributes nothing: its 0.7 colour and its 0.3 literal are absent
    assert not np.any(np.isclose(values, np.log1p(7.0))) and not np.any(np.isclose(values, np.log1p(3.0)))
    assert np.any((ids == NUMBER) & np.isclose(values, np.log1p(20.0)))  # the comp shader's literal 2
    assert ids.min() >= 1 and ids.max() < VOCAB_SIZE and ids.dtype == np.int32


def test_each_section_is_capped_and_batches_pad():
    huge = PRESET + "".join(f"per_pixel_{i}=rot = rot + {i}*0.001*sin(x*{i});\n" for i in range(1, 400))
    ids, _, sections = tokens(huge)
    assert (sections == SECTIONS.index("per_pixel")).sum() == SECTION_CAPS["per_pixel"]
    assert len(ids) <= MAX_TOKENS and (sections == SECTIONS.index("comp")).sum() > 0  # later sections survive
    rows = [tokens(PRESET), tokens(synthetic_preset(3).to_text())]
    pid, pval, psec = pad_batch(rows)
    assert pid.shape == pval.shape == psec.shape == (2, max(len(r[0]) for r in rows))
    short = int(np.argmin([len(r[0]) for r in rows]))
    assert np.all(pid[short, len(rows[short][0]) :] == 0)
