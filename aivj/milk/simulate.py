"""Static features from running a preset's equations without a renderer (docs/features.md, "sim_*").

The per-frame code (``per_frame_init`` once, then ``per_frame`` for ``N_FRAMES`` frames) runs as
Python closures (``aivj.milk.eel``) on a fixed audio track: the techno program the renders hear,
cut into the render's frames (128 BPM, 16 frames a beat) and turned into MilkDrop-like bass/mid/treb
(band energy over its mean, ``*_att`` smoothed). Per-frame values (decay, gamma, echo, wave colour
and alpha, borders, zoom/rot/warp/dx/dy/sx/sy, darken/brighten/invert/solarize) become time series;
the per-vertex code runs vectorised on an 8x6 grid at every ``PIXEL_STEP``-th frame, and MilkDrop's
warp-mesh mapping turns zoom/rot/warp/dx/dy/sx/sy/cx/cy into a per-vertex displacement. Summaries of
those series plus counts from custom waves/shapes and shader text (``sim_static``) are the vector.

``simulate_features`` takes what ``aivj.milk.parser.parse_milk`` returns and never raises: code it
cannot read or run leaves the affected series at their base values and sets ``sim_failed``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from aivj.milk.audio import SAMPLE_RATE, make_audio
from aivj.milk.eel import compile_eel
from aivj.milk.eel_runtime import scalar_namespace, vector_namespace
from aivj.milk.parser import MilkPreset
from aivj.milk.sim_static import STATIC_NAMES, static_features

N_FRAMES = 96  # the render runs a preset 32 warm-up + 64 stored frames after 8 black ones
PIXEL_STEP = 8
FPS = 128.0 / 60.0 * 16.0
GRID_X, GRID_Y = 8, 6

# per-frame variable -> base key (MilkDrop's names) and default
PRESET_VARS = {
    "zoom": ("zoom", 1.0), "zoomexp": ("fzoomexponent", 1.0), "rot": ("rot", 0.0), "warp": ("warp", 1.0),
    "cx": ("cx", 0.5), "cy": ("cy", 0.5), "dx": ("dx", 0.0), "dy": ("dy", 0.0), "sx": ("sx", 1.0), "sy": ("sy", 1.0),
    "decay": ("fdecay", 0.98), "gamma": ("fgammaadj", 2.0), "echo_zoom": ("fvideoechozoom", 2.0),
    "echo_alpha": ("fvideoechoalpha", 0.0), "wave_a": ("fwavealpha", 0.8), "wave_r": ("wave_r", 1.0),
    "wave_g": ("wave_g", 1.0), "wave_b": ("wave_b", 1.0), "wave_mode": ("nwavemode", 0.0),
    "wave_scale": ("fwavescale", 1.0), "additivewave": ("badditivewaves", 0.0), "wave_brighten": ("bmaximizewavecolor", 0.0),
    "ob_size": ("ob_size", 0.01), "ob_r": ("ob_r", 0.0), "ob_g": ("ob_g", 0.0), "ob_b": ("ob_b", 0.0), "ob_a": ("ob_a", 0.0),
    "ib_size": ("ib_size", 0.01), "ib_r": ("ib_r", 0.25), "ib_g": ("ib_g", 0.25), "ib_b": ("ib_b", 0.25), "ib_a": ("ib_a", 0.0),
    "mv_a": ("mv_a", 1.0), "mv_x": ("nmotionvectorsx", 12.0), "mv_y": ("nmotionvectorsy", 9.0),
    "mv_r": ("mv_r", 1.0), "mv_g": ("mv_g", 1.0), "mv_b": ("mv_b", 1.0),
    "darken": ("bdarken", 0.0), "brighten": ("bbrighten", 0.0), "invert": ("binvert", 0.0),
    "solarize": ("bsolarize", 0.0), "darken_center": ("bdarkencenter", 0.0), "wrap": ("btexwrap", 1.0),
    "warpanimspeed": ("fwarpanimspeed", 1.0), "warpscale": ("fwarpscale", 1.0),
}  # fmt: skip
TRACKED = tuple(PRESET_VARS)
_AUDIO = ("bass", "mid", "treb", "bass_att", "mid_att", "treb_att")
_WARP_VARS = ("zoom", "zoomexp", "rot", "warp", "cx", "cy", "dx", "dy", "sx", "sy")
_CLIP = 1e6

SERIES_NAMES = (
    "sim_decay_mean", "sim_decay_min", "sim_gamma_mean", "sim_echo_alpha_mean", "sim_echo_zoom_mean",
    "sim_wave_lum_mean", "sim_wave_lum_std", "sim_wave_a_mean", "sim_wave_mode", "sim_additive_wave",
    "sim_wave_brighten", "sim_border_outer", "sim_border_inner", "sim_mv_lum", "sim_darken", "sim_brighten",
    "sim_invert", "sim_solarize", "sim_darken_center", "sim_zoom_dev", "sim_zoom_step", "sim_rot_abs",
    "sim_rot_step", "sim_warp_mean", "sim_shift_mean", "sim_stretch_dev", "sim_audio_sync", "sim_disp_mean",
    "sim_disp_p90", "sim_disp_time_std", "sim_disp_space_std", "sim_disp_step", "sim_has_per_pixel",
    "sim_n_frame_statements", "sim_n_user_vars", "sim_varying_vars", "sim_failed",
)  # fmt: skip
# Feedback-loop estimates: the image keeps ``effective decay`` of itself each frame and gains what is
# drawn on it, so its brightness settles near injection x persistence (times the gamma boost).
DERIVED_NAMES = ("sim_effective_decay", "sim_log_persistence", "sim_injection", "sim_steady_luma")
SIM_FEATURE_NAMES: tuple[str, ...] = SERIES_NAMES + STATIC_NAMES + DERIVED_NAMES
SIM_DIM = len(SIM_FEATURE_NAMES)


@lru_cache(maxsize=1)
def audio_track() -> dict[str, tuple[float, ...]]:
    """bass/mid/treb(_att), time, frame for the ``N_FRAMES`` simulated frames (from the techno program)."""
    spf = int(round(SAMPLE_RATE * 60.0 / 128.0 / 16.0))
    lead = 8  # the render's black frames come first; the preset starts after them
    audio = make_audio("techno", spf * (lead + N_FRAMES)).astype(np.float64)[lead * spf :]
    spec = np.abs(np.fft.rfft(audio.reshape(N_FRAMES, spf) * np.hanning(spf), axis=1)) ** 2
    freqs = np.fft.rfftfreq(spf, 1.0 / SAMPLE_RATE)
    out = {}
    for name, lo, hi in (("bass", 20, 250), ("mid", 250, 2000), ("treb", 2000, 11000)):
        energy = spec[:, (freqs >= lo) & (freqs < hi)].sum(axis=1)
        imm = energy / max(float(energy.mean()), 1e-12)
        att = np.empty_like(imm)
        level = 1.0
        for i, x in enumerate(imm):  # MilkDrop's *_att: a slow running average of the ratio
            level = level * 0.8 + x * 0.2
            att[i] = level
        out[name], out[f"{name}_att"] = tuple(imm.tolist()), tuple(att.tolist())
    out["time"] = tuple((np.arange(N_FRAMES) / FPS).tolist())
    out["frame"] = tuple(float(i) for i in range(N_FRAMES))
    return out


def _base_values(preset: MilkPreset) -> dict[str, float]:
    return {var: preset.value(key, default) for var, (key, default) in PRESET_VARS.items()}


def _run_frames(preset: MilkPreset, base: dict[str, float], seed: int) -> tuple[np.ndarray, dict, int, int, bool]:
    """Tracked series [N_FRAMES, len(TRACKED)], q values at each frame, statement count, user vars, failed.

    As in MilkDrop, preset variables are reset to their base values before every frame and q1..q32
    to their values after ``per_frame_init``; other variables keep their values between frames.
    """
    failed = False
    series = np.tile([base[v] for v in TRACKED], (N_FRAMES, 1)).astype(np.float64)
    qvals, n_user, statements = {}, 0, 0
    try:
        ops = scalar_namespace(seed)
        env = dict(base) | {a: 0.0 for a in (*_AUDIO, "time", "frame")} | {"fps": FPS}
        audio = audio_track()
        init, a_init = compile_eel("\n".join(preset.per_frame_init), env, ops)
        frame, a_frame = compile_eel("\n".join(preset.per_frame), env, ops)
        qs = sorted(n for n in env if n.startswith("q") and n[1:].isdigit())
        changed = [v for v in TRACKED if v in a_init | a_frame]
        n_user, statements = len((a_init | a_frame) - set(TRACKED) - set(qs)), len(frame)
        for a in _AUDIO:
            env[a] = audio[a][0]
        for run in init:
            run()
        q_init = [(q, env[q]) for q in qs]
        resets = [(v, base[v]) for v in changed] + q_init
        inputs = [(a, audio[a]) for a in (*_AUDIO, "time", "frame")]
        recorded = changed + qs
        rec = []
        for i in range(N_FRAMES):
            for name, values in inputs:
                env[name] = values[i]
            env.update(resets)
            for run in frame:
                run()
            rec.append([env[v] for v in recorded])
        rec = np.array(rec, dtype=np.float64).reshape(N_FRAMES, len(recorded))
        for k, v in enumerate(changed):
            series[:, TRACKED.index(v)] = rec[:, k]
        qvals = {q: rec[:, len(changed) + k] for k, q in enumerate(qs)}
    except Exception:  # noqa: BLE001 - any failure of untrusted code: base values, flagged
        failed = True
        series = np.tile([base[v] for v in TRACKED], (N_FRAMES, 1)).astype(np.float64)
    bad = ~np.isfinite(series)
    if bad.any():
        failed = True
        series = np.where(bad, np.array([base[v] for v in TRACKED]), series)
    return np.clip(series, -_CLIP, _CLIP), qvals, statements, n_user, failed


def _grid() -> tuple[np.ndarray, ...]:
    xs = (np.arange(GRID_X) + 0.5) / GRID_X * 2 - 1
    ys = (np.arange(GRID_Y) + 0.5) / GRID_Y * 2 - 1
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    return gx, gy, np.sqrt(gx * gx + gy * gy) / math.sqrt(2.0), np.arctan2(gy, gx)


_GX, _GY, _RAD, _ANG = _grid()


def _per_vertex(preset: MilkPreset, series: np.ndarray, qvals: dict, seed: int) -> tuple[np.ndarray, bool]:
    """Warp parameters per sampled frame and vertex: [len(_WARP_VARS), n_sampled, n_vertices]."""
    frames = np.arange(0, N_FRAMES, PIXEL_STEP)
    col = {v: series[frames, TRACKED.index(v)][:, None] for v in TRACKED}
    shape = (frames.size, _GX.size)
    if not preset.per_pixel:
        return np.stack([np.broadcast_to(col[v], shape) for v in _WARP_VARS]), False
    try:
        audio = audio_track()
        env = dict(col) | {q: val[frames][:, None] for q, val in qvals.items()}
        env |= {a: np.asarray(audio[a])[frames][:, None] for a in (*_AUDIO, "time", "frame")}
        env |= {"x": _GX * 0.5 + 0.5, "y": 0.5 - _GY * 0.5, "rad": _RAD, "ang": _ANG, "fps": FPS}
        code, _ = compile_eel("\n".join(preset.per_pixel), env, vector_namespace(seed), vector=True)
        with np.errstate(all="ignore"):  # frames x vertices in one pass: per-vertex state is not kept
            for run in code:
                run()
            params = np.stack([np.broadcast_to(np.asarray(env[v], dtype=np.float64), shape) for v in _WARP_VARS])
    except Exception:  # noqa: BLE001 - untrusted code: keep the per-frame values, flag it
        return np.stack([np.broadcast_to(col[v], shape) for v in _WARP_VARS]), True
    bad = ~np.isfinite(params)
    return np.clip(np.where(bad, 0.0, params), -_CLIP, _CLIP), bool(bad.any())


def _displacement(p: np.ndarray, time: np.ndarray) -> np.ndarray:
    """MilkDrop's warp-mesh mapping (no aspect), as |uv' - uv| per sampled frame and vertex."""
    zoom, zoomexp, rot, warp, cx, cy, dx, dy, sx, sy = p
    with np.errstate(all="ignore"):
        zoom2 = np.power(np.clip(zoom, 1e-3, 1e3), np.power(np.clip(zoomexp, 1e-3, 1e3), _RAD * 2 - 1))
        u0, v0 = _GX * 0.5 + 0.5, -_GY * 0.5 + 0.5
        u, v = _GX * 0.5 / zoom2 + 0.5, -_GY * 0.5 / zoom2 + 0.5
        u = (u - cx) / np.where(np.abs(sx) > 1e-3, sx, 1e-3) + cx
        v = (v - cy) / np.where(np.abs(sy) > 1e-3, sy, 1e-3) + cy
        t = time[:, None]
        u = u + warp * 0.0035 * np.sin(t * 0.333 + 8.0 * (_GX * 0.7 - _GY * 0.4))
        v = v + warp * 0.0035 * np.cos(t * 0.375 - 8.0 * (_GX * 0.4 + _GY * 0.7))
        du, dv = u - cx, v - cy
        c, s = np.cos(np.clip(rot, -1e3, 1e3)), np.sin(np.clip(rot, -1e3, 1e3))
        u, v = du * c - dv * s + cx - dx, du * s + dv * c + cy - dy
        d = np.sqrt((u - u0) ** 2 + (v - v0) ** 2)
    return np.clip(np.nan_to_num(d, nan=0.0, posinf=10.0), 0.0, 10.0)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


def _summaries(s: dict[str, np.ndarray], disp: np.ndarray, bass: np.ndarray) -> list[float]:
    wave_lum = np.clip(s["wave_a"], 0, 4) * np.clip(np.maximum(np.maximum(s["wave_r"], s["wave_g"]), s["wave_b"]), 0, 1)
    border = lambda p: float(
        np.mean(
            np.clip(s[f"{p}_a"], 0, 1)
            * np.clip(s[f"{p}_size"], 0, 0.5)
            * np.clip((s[f"{p}_r"] + s[f"{p}_g"] + s[f"{p}_b"]) / 3, 0, 1)
        )
    )  # noqa: E731
    mv_on = (s["mv_x"] >= 1) & (s["mv_y"] >= 1)
    mv = float(np.mean(mv_on * np.clip(s["mv_a"], 0, 1) * np.clip((s["mv_r"] + s["mv_g"] + s["mv_b"]) / 3, 0, 1)))
    flag = lambda v: float(np.mean(s[v] != 0))  # noqa: E731
    motion = [s[v] for v in ("zoom", "rot", "dx", "dy", "warp")]
    sync = max(abs(_corr(m, bass)) for m in motion)
    mean_disp = disp.mean(axis=1)
    return [
        float(s["decay"].mean()), float(s["decay"].min()), float(s["gamma"].mean()), float(np.clip(s["echo_alpha"], 0, 1).mean()),
        float(s["echo_zoom"].mean()), float(wave_lum.mean()), float(wave_lum.std()), float(s["wave_a"].mean()),
        float(s["wave_mode"].mean()), flag("additivewave"), flag("wave_brighten"), border("ob"), border("ib"), mv,
        flag("darken"), flag("brighten"), flag("invert"), flag("solarize"), flag("darken_center"),
        float(np.abs(s["zoom"] - 1).mean()), float(np.abs(np.diff(s["zoom"])).mean()), float(np.abs(s["rot"]).mean()),
        float(np.abs(np.diff(s["rot"])).mean()), float(np.abs(s["warp"]).mean()), float((np.abs(s["dx"]) + np.abs(s["dy"])).mean()),
        float((np.abs(s["sx"] - 1) + np.abs(s["sy"] - 1)).mean()), sync, float(disp.mean()), float(np.percentile(disp, 90)),
        float(mean_disp.std()), float(disp.std(axis=1).mean()), float(np.abs(np.diff(disp, axis=0)).mean()),
    ]  # fmt: skip


def _derived(f: dict[str, float]) -> list[float]:
    decay = f["sim_decay_mean"]
    if f["sim_has_warp_shader"]:  # a MilkDrop 2 warp shader applies its own decay
        decay = decay * f["sim_warp_ret_mul"] - f["sim_warp_ret_sub"]
    decay = min(max(decay, 0.0), 1.0)
    log_persistence = math.log(1.0 / max(1.0 - decay, 0.002))
    injection = (f["sim_wave_lum_mean"] * (1.0 + f["sim_additive_wave"]) + f["sim_waves_lum"] + math.expm1(f["sim_shapes_area"])
                 + 20.0 * (f["sim_border_outer"] + f["sim_border_inner"]) + 0.1 * f["sim_mv_lum"])  # fmt: skip
    steady = math.log1p(injection * math.exp(log_persistence) * max(f["sim_gamma_mean"], 0.0) / 2.0)
    return [decay, log_persistence, injection, steady]


def simulate_features(preset: MilkPreset) -> np.ndarray:
    """The ``SIM_DIM`` float32 vector of a parsed preset; deterministic, finite, never raises."""
    seed = 1234
    base = _base_values(preset)
    series, qvals, statements, n_user, failed = _run_frames(preset, base, seed)
    params, pixel_failed = _per_vertex(preset, series, qvals, seed)
    time = np.asarray(audio_track()["time"])[::PIXEL_STEP]
    disp = _displacement(params, time)
    s = {v: series[:, k] for k, v in enumerate(TRACKED)}
    varying = float(np.sum(series.std(axis=0) > 1e-9))
    row = _summaries(s, disp, np.asarray(audio_track()["bass"]))
    row += [float(bool(preset.per_pixel)), math.log1p(statements), math.log1p(n_user), varying, float(failed or pixel_failed)]
    row += static_features(preset)
    row += _derived(dict(zip(SIM_FEATURE_NAMES, row)))
    out = np.asarray(row, dtype=np.float64)
    return np.clip(np.nan_to_num(out, nan=0.0, posinf=_CLIP, neginf=-_CLIP), -_CLIP, _CLIP).astype(np.float32)
