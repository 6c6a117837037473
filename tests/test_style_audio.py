"""Style features: decoding every format the issue names, the STFT against librosa's, windows, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from aivj.style.audio import AudioError, load_audio
from aivj.style.features import LIVE_DIM, FeatureSpec, frames, power_spectrogram, windows

SPEC = FeatureSpec()


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    left = 0.3 * np.sin(2 * np.pi * (220 + 400 * t) * t) * (1 + np.sin(2 * np.pi * 2 * t)) / 2
    return np.stack([left, 0.5 * left], axis=1).astype(np.float32)


def test_the_numpy_stft_is_librosas():
    import librosa

    y = np.random.default_rng(0).normal(size=30_000).astype(np.float32)
    want = np.abs(librosa.stft(y, n_fft=SPEC.n_fft, hop_length=SPEC.hop, center=True, pad_mode="constant")) ** 2
    got = power_spectrogram(y, SPEC)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * want.max())


@pytest.mark.parametrize(
    "suffix,fmt,subtype",
    [(".wav", "WAV", "PCM_16"), (".ogg", "OGG", "VORBIS"), (".flac", "FLAC", "PCM_16"), (".mp3", "MP3", None)],
)
def test_every_format_decodes_to_mono_at_the_model_rate_with_the_same_spectrum(tmp_path, suffix, fmt, subtype):
    stereo = _tone(2.0, 44_100)
    path = tmp_path / f"tone{suffix}"
    sf.write(str(path), stereo, 44_100, format=fmt, subtype=subtype)
    reference = tmp_path / "ref.wav"
    sf.write(str(reference), stereo, 44_100, subtype="FLOAT")

    audio, ref = load_audio(path, SPEC.sample_rate), load_audio(reference, SPEC.sample_rate)
    assert audio.ndim == 1 and audio.dtype == np.float32
    assert abs(len(audio) - 2 * SPEC.sample_rate) < 0.1 * SPEC.sample_rate  # an MP3 frame of padding at most
    got, want = frames(audio, SPEC).log_mel.mean(axis=1), frames(ref, SPEC).log_mel.mean(axis=1)
    assert np.corrcoef(got, want)[0, 1] > 0.95


def test_a_file_gives_overlapping_windows_and_a_short_one_gives_one_padded_window():
    mel, live = windows(_tone(5.0, SPEC.sample_rate).mean(axis=1), SPEC)
    frames_in_file = 1 + 5 * SPEC.sample_rate // SPEC.hop
    assert mel.shape == (1 + -(-(frames_in_file - SPEC.window_frames) // SPEC.window_hop), SPEC.n_mels, SPEC.window_frames)
    assert live.shape == (len(mel), LIVE_DIM) and np.isfinite(live).all()
    short_mel, short_live = windows(np.zeros(2000, np.float32), SPEC)
    assert short_mel.shape == (1, SPEC.n_mels, SPEC.window_frames) and short_live.shape == (1, LIVE_DIM)


def test_a_steady_kick_has_a_tempo_and_a_confident_beat_that_noise_lacks():
    rate, bpm = SPEC.sample_rate, 120.0
    kick = np.zeros(4 * rate, np.float32)
    for start in np.arange(0, 4.0, 60 / bpm):
        i = int(start * rate)
        t = np.arange(2000) / rate
        kick[i : i + 2000] += np.sin(2 * np.pi * 60 * t) * np.exp(-t * 30)
    names = ("tempo", "beat_confidence")
    from aivj.style.features import LIVE_NAMES

    col = [LIVE_NAMES.index(n) for n in names]
    steady = windows(kick, SPEC)[1][0, col]
    noise = windows(np.random.default_rng(0).normal(0, 0.1, 4 * rate).astype(np.float32), SPEC)[1][0, col]
    assert steady[0] * 120 == pytest.approx(bpm, rel=0.05) or steady[0] * 120 == pytest.approx(2 * bpm, rel=0.05)
    assert steady[1] > 0.5 > noise[1]


def test_bad_audio_files_are_one_line_errors_naming_the_file(tmp_path):
    fake = tmp_path / "song.wav"
    fake.write_text("not audio at all")
    with pytest.raises(AudioError, match=r"song\.wav: cannot decode"):
        load_audio(fake, SPEC.sample_rate)
    with pytest.raises(AudioError, match=r"notes\.txt: not an audio file"):
        (tmp_path / "notes.txt").write_text("x")
        load_audio(tmp_path / "notes.txt", SPEC.sample_rate)
    with pytest.raises(AudioError, match="no such audio file"):
        load_audio(tmp_path / "missing.mp3", SPEC.sample_rate)
    empty = tmp_path / "empty.flac"
    sf.write(str(empty), np.zeros((0, 1), np.float32), 22_050, format="FLAC")
    with pytest.raises(AudioError, match=r"empty\.flac"):
        load_audio(empty, SPEC.sample_rate)
