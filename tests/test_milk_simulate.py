"""The ns-eel evaluator and the simulated ``sim_*`` preset features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aivj.milk.eel import EelError, compile_eel
from aivj.milk.eel_runtime import scalar_namespace, vector_namespace
from aivj.milk.parser import parse_milk
from aivj.milk.simulate import SIM_DIM, SIM_FEATURE_NAMES, simulate_features


def run_scalar(code: str, **env) -> dict:
    env = dict(env)
    for statement in compile_eel(code, env, scalar_namespace(0))[0]:
        statement()
    return env


def feature(vec: np.ndarray, name: str) -> float:
    return float(vec[SIM_FEATURE_NAMES.index(name)])


def preset(body: str) -> str:
    return "[preset00]\nfDecay=0.98\nzoom=1.0\n" + body


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("x = 1 + 2*3", 7.0),
        ("x = (1 + 2)*3", 9.0),
        ("x = 2^3^2", 512.0),  # ^ is pow, right-associative
        ("x = 1/0", 0.0),  # ns-eel: division by zero gives 0
        ("x = sqrt(-4)", 2.0),  # sqrt of |x|
        ("x = if(above(3, 2), 10, 20)", 10.0),
        ("x = below(3, 2) + equal(2, 2)*2", 2.0),
        ("x = 7 % 3", 1.0),
        ("x = 5; x += 2; x *= 3", 21.0),
        ("x = (y = 4; y + 1)", 5.0),
        ("x = 3 > 2 ? 8 : 9", 8.0),
        ("x = band(1, 0) + bor(1, 0) + bnot(0)", 2.0),
        ("x = sign(-3) + abs(-2) + min(1, 2) + max(1, 2) + int(2.7) + sqr(3)", -1 + 2 + 1 + 2 + 2 + 9),
        ("x = megabuf(3) + 1", 1.0),  # unknown function: 0
        ("x = pow(2, 10); // comment\n /* block */", 1024.0),
    ],
)
def test_scalar_expressions(code, expected):
    assert run_scalar(code)["x"] == pytest.approx(expected)


def test_every_function_exists_in_both_runtimes():
    from aivj.milk.eel import FUNCTIONS

    assert set(FUNCTIONS) <= set(scalar_namespace(0)) and set(FUNCTIONS) <= set(vector_namespace(0))


def test_variables_are_case_insensitive_and_default_to_zero():
    env = run_scalar("X = Y + 1; Zoom = zoom*2", zoom=0.5)
    assert env["x"] == 1.0 and env["y"] == 0.0 and env["zoom"] == 1.0


def test_lines_split_inside_an_expression_and_lines_without_semicolons():
    # old presets wrap long expressions over several code lines; simulate joins them with newlines
    env = run_scalar("x = if\n(above(2, 1),\n 3, 4);\ny = 1\nz = 2")
    assert (env["x"], env["y"], env["z"]) == (3.0, 1.0, 2.0)


def test_if_is_lazy_in_scalar_mode():
    env = run_scalar("c = 0; x = if(c, y = 5, 2)")
    assert env["x"] == 2.0 and env["y"] == 0.0


def test_vector_mode_broadcasts_over_a_grid():
    env = {"x": np.array([0.0, 0.5, 1.0]), "zoom": 1.0}
    for statement in compile_eel(
        "zoom = zoom + if(above(x, 0.4), 0.1, 0); d = 1/(x - 0.5)", env, vector_namespace(0), vector=True
    )[0]:
        with np.errstate(all="ignore"):
            statement()
    assert env["zoom"].tolist() == pytest.approx([1.0, 1.1, 1.1])
    assert env["d"].tolist() == pytest.approx([-2.0, 0.0, 2.0])


@pytest.mark.parametrize("code", ["x = (1 + 2", "x = 3 +", "= 4", "x = (1))"])
def test_unreadable_code_raises_eel_error(code):
    with pytest.raises(EelError):
        compile_eel(code, {}, scalar_namespace(0))


def test_deep_nesting_is_an_eel_error_not_a_crash():
    with pytest.raises(EelError):
        compile_eel("x = " + "(" * 5000 + "1" + ")" * 5000, {}, scalar_namespace(0))


def test_vector_shape_names_and_finiteness():
    vec = simulate_features(parse_milk(preset("per_frame_1=zoom=zoom+0.1*sin(time);\n")))
    assert vec.shape == (SIM_DIM,) and vec.dtype == np.float32
    assert len(set(SIM_FEATURE_NAMES)) == SIM_DIM and all(n.startswith("sim_") for n in SIM_FEATURE_NAMES)
    assert np.isfinite(vec).all()
    assert feature(vec, "sim_failed") == 0.0


def test_deterministic_including_rand():
    p = parse_milk(preset("per_frame_1=zoom=1+rand(10)*0.01;\nper_pixel_1=rot=rand(5)*0.01;\n"))
    assert np.array_equal(simulate_features(p), simulate_features(p))


def test_per_frame_code_changes_the_series():
    still = simulate_features(parse_milk(preset("")))
    pulsing = simulate_features(parse_milk(preset("per_frame_1=zoom=1+0.2*bass;\nper_frame_2=decay=0.9;\n")))
    assert feature(still, "sim_zoom_dev") == 0.0 and feature(still, "sim_audio_sync") == 0.0
    assert feature(pulsing, "sim_zoom_dev") > 0.05 and feature(pulsing, "sim_audio_sync") > 0.9
    assert feature(pulsing, "sim_decay_mean") == pytest.approx(0.9)
    assert feature(pulsing, "sim_disp_mean") > feature(still, "sim_disp_mean")


def test_user_variables_persist_between_frames_and_preset_variables_reset():
    vec = simulate_features(parse_milk(preset("per_frame_1=t=t+1;\nper_frame_2=rot=rot+0.01*t;\n")))
    # rot restarts at its base 0 each frame, so it follows t (1..96), not a running sum of it
    assert feature(vec, "sim_rot_abs") == pytest.approx(0.01 * np.mean(np.arange(1, 97)), rel=1e-4)


def test_q_variables_reach_the_per_vertex_code():
    moving = simulate_features(parse_milk(preset("warp=0\nper_frame_init_1=q1=0.05;\nper_pixel_1=dx=q1*rad;\n")))
    still = simulate_features(parse_milk(preset("warp=0\nper_pixel_1=dx=q1*rad;\n")))
    assert feature(moving, "sim_has_per_pixel") == 1.0
    assert feature(moving, "sim_disp_space_std") > 0.005 and feature(still, "sim_disp_mean") == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "body",
    [
        "per_frame_1=x = (1 + ;\n",  # unreadable
        "per_frame_1=zoom = zoom*1e300*1e300; rot = sin(zoom);\n",  # overflow, sin(inf)
        "per_frame_1=t = t + 1; zoom = pow(10, t*t);\n",  # runaway growth
        "per_frame_1=x = " + "(" * 3000 + "1" + ")" * 3000 + ";\n",  # deep nesting
        "per_pixel_1=zoom = log(0) + 1/0 + pow(-8, 0.5); rot = sqrt(-1)*1e308*1e308;\n",
        "per_frame_1=zoom = band(1e300, -1e300) + 7 % 0 + atan2(0, 0) + asin(9);\n",
    ],
)
def test_hostile_code_never_raises_and_stays_finite(body):
    vec = simulate_features(parse_milk(preset(body)))
    assert np.isfinite(vec).all() and vec.shape == (SIM_DIM,)


def test_unreadable_code_sets_the_failed_flag():
    assert feature(simulate_features(parse_milk(preset("per_frame_1=x = (1 + ;\n"))), "sim_failed") == 1.0


def test_shader_and_custom_shape_signals():
    text = preset(
        "shapecode_0_enabled=1\nshapecode_0_rad=0.5\nshapecode_0_a=1\nshapecode_0_additive=1\n"
        "warp_1=`shader_body {\nwarp_2=`ret = tex2D(sampler_main, uv).xyz;\nwarp_3=`ret *= 0.96;\nwarp_4=`}\n"
        "comp_1=`shader_body {\ncomp_2=`ret = 1 - tex2D(sampler_main, uv).xyz;\ncomp_3=`}\n"
    )
    vec = simulate_features(parse_milk(text))
    assert feature(vec, "sim_shapes_on") == 1.0 and feature(vec, "sim_shapes_additive") == 1.0
    assert feature(vec, "sim_shapes_area") == pytest.approx(math.log1p(0.5 * 0.25))
    assert feature(vec, "sim_warp_ret_mul") == pytest.approx(0.96)
    assert feature(vec, "sim_comp_invert") == 1.0 and feature(vec, "sim_has_comp_shader") == 1.0


def test_docs_list_every_simulated_feature():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "features.md").read_text()
    section = text[text.index("## Simulated features") :]
    missing = [name for name in SIM_FEATURE_NAMES if f"`{name}`" not in section]
    assert not missing, f"docs/features.md lacks {missing}"
    assert f"SIM_DIM {SIM_DIM}" in section
