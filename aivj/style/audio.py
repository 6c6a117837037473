"""Decode WAV, OGG, FLAC and MP3 to mono float32 at the model's rate.

libsndfile (through ``soundfile``, 1.1 or later) decodes all four, MP3 with mpg123: one well-kept
decoder for every format; resampling is soxr (``librosa.resample``'s default engine).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

AUDIO_SUFFIXES = (".wav", ".ogg", ".flac", ".mp3")


class AudioError(ValueError):
    """An audio file that cannot be used; the message is one line naming the file."""


def load_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise AudioError(f"{path}: not an audio file this reads ({', '.join(AUDIO_SUFFIXES)})")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(
            f"{path}: cannot decode ({str(exc).strip().splitlines()[0] if str(exc).strip() else 'unknown'})"
        ) from None
    if audio.size == 0:
        raise AudioError(f"{path}: no samples")
    mono = audio.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{path}: samples that are not finite")
    if rate != sample_rate:
        import soxr

        mono = soxr.resample(mono, rate, sample_rate).astype(np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32)
