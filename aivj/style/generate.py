"""Deterministic labelled audio: a recipe's MIDI, rendered by fluidsynth with a General MIDI soundfont, then mixed.

Debian's ``fluidsynth`` and ``fluid-soundfont-gm`` (Makefile SYSTEM_PACKAGES) give sampled
instruments, so the corpus needs no download. The mix stage (stereo balance, tilt EQ, low/high cut,
drive, noise floor, level, sometimes a lo-fi resample) draws from one distribution for every style:
it varies what a recording chain does without telling the styles apart.

A track is fixed by (style, seed): the same call writes the same samples. ``generate_corpus``
writes ``<out>/<style>/<style>_<i>.wav`` and ``manifest.csv`` (file, style, split, seed, bpm, key,
scale, programs); the split is drawn per track, so windows of one track never cross splits.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from aivj.contract.atomic import atomic_path, write_json_atomic, write_text_atomic
from aivj.style.compose import write_midi
from aivj.style.recipes import RECIPES

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2")
MANIFEST, PARAMS = "manifest.csv", "corpus.json"
GENERATOR_VERSION = 1  # bump when a recipe or the mix changes: a kept corpus is then rebuilt
MANIFEST_COLUMNS = ["file", "style", "split", "seed", "bpm", "key", "scale", "programs"]
INSTALL_HINT = "sudo apt-get install -y --no-install-recommends fluidsynth fluid-soundfont-gm (Makefile SYSTEM_PACKAGES)"


class GeneratorError(RuntimeError):
    """Something the generator needs is missing; the message is one line."""


def soundfont() -> Path:
    for candidate in [os.environ.get("AIVJ_SOUNDFONT", ""), *SOUNDFONTS]:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise GeneratorError(f"no General MIDI soundfont in {SOUNDFONTS[0]} (or $AIVJ_SOUNDFONT): {INSTALL_HINT}")


def track_seed(style: str, seed: int) -> int:
    return int(hashlib.sha256(f"{style}:{seed}".encode()).hexdigest()[:8], 16)


def render(midi: Path, sample_rate: int, gain: float) -> np.ndarray:
    """fluidsynth's stereo render of a MIDI file, float32 [n, 2]."""
    import soundfile as sf

    exe = shutil.which("fluidsynth")
    if exe is None:
        raise GeneratorError(f"fluidsynth not found on PATH: {INSTALL_HINT}")
    wav = midi.with_suffix(".render.wav")
    cmd = [exe, "-ni", "-q", "-g", f"{gain:.3f}", "-r", str(sample_rate), "-F", str(wav), str(soundfont()), str(midi)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not wav.is_file():
        raise GeneratorError(f"{midi}: fluidsynth failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    audio, _ = sf.read(str(wav), dtype="float32", always_2d=True)
    return audio


def _one_pole(x: np.ndarray, cutoff: float, sample_rate: int) -> np.ndarray:
    from scipy.signal import lfilter

    a = float(np.exp(-2 * np.pi * cutoff / sample_rate))
    return lfilter([1 - a], [1, -a], x).astype(np.float32)


def master(stereo: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A recording chain drawn at random, the same distribution for every style; mono float32."""
    bal = rng.uniform(0.25, 0.75)
    x = (bal * stereo[:, 0] + (1 - bal) * stereo[:, 1]).astype(np.float32)
    low = _one_pole(x, rng.uniform(150, 600), sample_rate)
    x = x + rng.uniform(-0.5, 0.6) * low  # tilt: more or less low end
    if rng.random() < 0.5:
        x = x - _one_pole(x, rng.uniform(20, 180), sample_rate)  # a high-pass
    if rng.random() < 0.5:
        x = _one_pole(x, rng.uniform(3000, 10000), sample_rate)  # a dull or cheap chain
    if rng.random() < 0.15:  # lo-fi: resampled through a low rate
        from scipy.signal import resample_poly

        x = resample_poly(resample_poly(x, 1, 2), 2, 1)[: len(x)].astype(np.float32)
    peak = float(np.max(np.abs(x))) or 1.0
    drive = rng.uniform(1.0, 4.0)
    x = np.tanh(drive * x / peak) / np.tanh(drive)
    x = x + rng.normal(0, 10 ** (rng.uniform(-75, -40) / 20), len(x)).astype(np.float32)
    level = 10 ** (rng.uniform(-18, -1) / 20)
    return (level * x / (float(np.max(np.abs(x))) or 1.0)).astype(np.float32)


def generate_track(style: str, seed: int, seconds: float, sample_rate: int = 22050) -> tuple[np.ndarray, dict]:
    """(mono float32 audio of exactly ``seconds``, what was drawn)."""
    if style not in RECIPES:
        raise GeneratorError(f"no recipe for style {style!r} (have: {', '.join(RECIPES)})")
    rng = np.random.default_rng(track_seed(style, seed))
    song = RECIPES[style](rng, seconds)
    with tempfile.TemporaryDirectory(prefix="aivj-style-") as tmp:
        midi = Path(tmp) / "song.mid"
        write_midi(song, midi)
        stereo = render(midi, sample_rate, gain=float(rng.uniform(0.3, 0.6)))
    n = int(round(seconds * sample_rate))
    start = int(rng.integers(0, max(1, min(len(stereo) - n, sample_rate)))) if len(stereo) > n else 0
    stereo = stereo[start : start + n]
    if len(stereo) < n:
        stereo = np.pad(stereo, ((0, n - len(stereo)), (0, 0)))
    meta = {
        "bpm": round(song.bpm, 1),
        "key": song.key,
        "scale": song.scale,
        "programs": " ".join(f"{'d' if p.drum else ''}{p.program}" for p in song.parts),
    }
    return master(stereo, sample_rate, rng), meta


def split_of(index: int, count: int, fractions: tuple[float, float]) -> str:
    """Per style, tracks in a seeded order: the first ``test`` share to test, the next to val."""
    n_test = max(1, round(count * fractions[1])) if count >= 3 else 0
    n_val = max(1, round(count * fractions[0])) if count >= 3 else 0
    return "test" if index < n_test else "val" if index < n_test + n_val else "train"


def generate_corpus(
    out: Path,
    styles,
    per_style: int,
    seconds: float,
    seed: int = 0,
    sample_rate: int = 22050,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    progress: bool = True,
) -> Path:
    """Write the corpus, ``manifest.csv`` and ``corpus.json`` (the parameters); a corpus with the same parameters is kept."""
    import soundfile as sf
    from rich.progress import Progress

    out = Path(out)
    params = {"styles": list(styles), "per_style": per_style, "seconds": seconds, "seed": seed, "sample_rate": sample_rate}
    params.update(val_fraction=val_fraction, test_fraction=test_fraction, generator=GENERATOR_VERSION)
    if (out / MANIFEST).is_file() and (out / PARAMS).is_file() and json.loads((out / PARAMS).read_text()) == params:
        return out / MANIFEST
    rows = []
    jobs = [(style, i) for style in styles for i in range(per_style)]
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"generating {len(jobs)} tracks", total=len(jobs))
        for style, i in jobs:
            order = np.random.default_rng(track_seed(style, seed)).permutation(per_style)
            track = seed * 100_000 + i
            path = out / style / f"{style}_{track}.wav"
            audio, meta = generate_track(style, track, seconds, sample_rate)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path, suffix=".wav") as tmp:
                sf.write(str(tmp), audio, sample_rate, subtype="PCM_16")
            split = split_of(int(np.where(order == i)[0][0]), per_style, (val_fraction, test_fraction))
            rows.append({"file": path.relative_to(out).as_posix(), "style": style, "split": split, "seed": track, **meta})
            bar.advance(task)
    lines = [",".join(MANIFEST_COLUMNS)]
    lines += [",".join(str(r[c]) for c in MANIFEST_COLUMNS) for r in rows]
    write_text_atomic(out / MANIFEST, "\n".join(lines) + "\n")
    write_json_atomic(params, out / PARAMS)
    return out / MANIFEST


def read_manifest(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
