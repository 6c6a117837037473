"""Deterministic audio for renders: synthetic programs (techno, ambient, breakbeat) or a WAV file.

Every preset of a run hears exactly the same samples, so frames differ only by preset. Programs
are built from a fixed-seed generator at 44.1 kHz mono in [-1, 1]; all share the render's beat
grid (128 BPM by default) so beat-phase descriptors stay comparable across programs.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 44100
PROGRAMS = ("techno", "ambient", "breakbeat")


def _env(t: np.ndarray, decay: float) -> np.ndarray:
    return np.exp(-t / decay)


def _hits(n: int, times: np.ndarray, make) -> np.ndarray:
    """Sum of one-shot sounds ``make(t)`` started at ``times`` (seconds)."""
    out = np.zeros(n, dtype=np.float64)
    for start in times:
        i = int(round(start * SAMPLE_RATE))
        if i >= n:
            continue
        t = np.arange(n - i) / SAMPLE_RATE
        out[i:] += make(t)
    return out


def _kick(t):
    freq = 50.0 + 90.0 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE
    return 0.9 * np.sin(phase) * _env(t, 0.18)


def techno(n: int, bpm: float = 128.0, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    dur = n / SAMPLE_RATE
    beats = np.arange(0, dur, beat)
    noise = rng.standard_normal(n)
    hats = _hits(n, beats + beat / 2, lambda t: _env(t, 0.03)) * np.diff(noise, prepend=0.0) * 0.25
    claps = _hits(n, beats[1::2], lambda t: _env(t, 0.08)) * noise * 0.3
    t = np.arange(n) / SAMPLE_RATE
    bass_notes = np.array([55.0, 55.0, 65.4, 49.0])[(t // (beat * 4)).astype(int) % 4]
    bass = 0.25 * np.sign(np.sin(2 * np.pi * np.cumsum(bass_notes) / SAMPLE_RATE)) * (0.5 + 0.5 * ((t / (beat / 2)) % 1 < 0.5))
    return _kick_mix(n, beats) + hats + claps + bass


def _kick_mix(n, times):
    return _hits(n, times, _kick)


def ambient(n: int, bpm: float = 128.0, seed: int = 11) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE
    bar = 4 * 60.0 / bpm
    swell = 0.55 + 0.45 * np.sin(2 * np.pi * t / (2 * bar)) ** 2
    chord = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip((110.0, 164.8, 220.0, 277.2), rng.uniform(0, 6.28, 4)))
    air = np.convolve(rng.standard_normal(n), np.ones(64) / 64, mode="same") * 0.6
    return 0.18 * chord * swell + air * swell


def breakbeat(n: int, bpm: float = 128.0, seed: int = 13) -> np.ndarray:
    rng = np.random.default_rng(seed)
    six = 60.0 / bpm / 4  # sixteenth note
    dur = n / SAMPLE_RATE
    bars = np.arange(0, dur, 16 * six)
    kicks = np.concatenate([bars + k * six for k in (0, 2, 10, 11)])
    snares = np.concatenate([bars + k * six for k in (4, 7, 12, 15)])
    noise = rng.standard_normal(n)
    snare = _hits(n, snares, lambda t: _env(t, 0.07)) * noise * 0.45
    ghost = _hits(n, np.arange(0, dur, six), lambda t: _env(t, 0.015)) * np.diff(noise, prepend=0.0) * 0.15
    return _kick_mix(n, kicks) + snare + ghost


_MAKERS = {"techno": techno, "ambient": ambient, "breakbeat": breakbeat}


def load_wav(path: str | Path) -> np.ndarray:
    """Mono float64 at 44.1 kHz from a 8/16/24/32-bit PCM WAV (linear resampling if needed)."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as fh:
            ch, width, rate, frames = fh.getnchannels(), fh.getsampwidth(), fh.getframerate(), fh.getnframes()
            raw = fh.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{path}: not a PCM WAV file ({exc})") from None
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        data = b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16)
        data = np.where(data >= 1 << 23, data - (1 << 24), data) / float(1 << 23)
    elif width in (1, 2, 4):
        dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
        data = np.frombuffer(raw, dtype=dtype).astype(np.float64)
        data = (data - 128.0) / 128.0 if width == 1 else data / float(np.iinfo(dtype).max)
    else:
        raise ValueError(f"{path}: unsupported sample width {width} bytes")
    if data.size == 0:
        raise ValueError(f"{path}: WAV file holds no samples")
    mono = data.reshape(-1, ch).mean(axis=1)
    if rate != SAMPLE_RATE:
        pos = np.arange(int(len(mono) * SAMPLE_RATE / rate)) * rate / SAMPLE_RATE
        mono = np.interp(pos, np.arange(len(mono)), mono)
    return mono


def make_audio(source: str, n: int, bpm: float = 128.0) -> np.ndarray:
    """``n`` float32 samples in [-1, 1] from a program name or a .wav path (looped if short)."""
    if source in _MAKERS:
        x = _MAKERS[source](n, bpm=bpm)
    elif source.lower().endswith(".wav"):
        x = load_wav(source)
        x = np.tile(x, int(np.ceil(n / len(x))))[:n]
    else:
        raise ValueError(f"audio source {source!r}: expected one of {', '.join(PROGRAMS)} or a .wav path")
    peak = float(np.max(np.abs(x))) or 1.0
    return (x / peak * 0.9).astype(np.float32)


def frame_envelope(audio: np.ndarray, samples_per_frame: int) -> np.ndarray:
    """RMS per video frame: what the temporal score correlates layer motion with."""
    n = len(audio) // samples_per_frame
    return np.sqrt(np.mean(audio[: n * samples_per_frame].reshape(n, samples_per_frame).astype(np.float64) ** 2, axis=1))
