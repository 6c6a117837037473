"""Log-mel windows and the app's live features, from one STFT (librosa).

The front end (what the browser must compute before the ONNX graph, docs/style.md):
mono at 22,050 Hz; STFT with a 1,024-point periodic Hann window, hop 512, centred (zero padding
of 512 each side); power |X|^2; librosa's Slaney mel filterbank (64 bands, 20 Hz-11,025 Hz,
``librosa.filters.mel(..., htk=False, norm="slaney")``, written out by ``aivj style export``);
``10 * log10(max(mel, 1e-10))``; windows of 128 frames (2.97 s). The network itself removes the
window's mean (gain invariance), so no reference level is needed.

Live features (the app's analyser, per window): rms level (dB) and its spread, spectral flux (mean
positive change of the log-mel, dB) and its spread, spectral centroid / Nyquist, the fraction of
power in the app's five sub-bands (kick 40-110 Hz, bass 60-250, synth 250-2,000, clap 1.2-4 k,
hihat 6-12 k), tempo from the flux autocorrelation (30-260 BPM) and its peak as beat confidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

BANDS = {"kick": (40, 110), "bass": (60, 250), "synth": (250, 2000), "clap": (1200, 4000), "hihat": (6000, 12000)}
LIVE_NAMES = ("rms_db", "rms_db_std", "flux", "flux_std", "centroid", *(f"band_{b}" for b in BANDS), "tempo", "beat_confidence")
LIVE_DIM = len(LIVE_NAMES)
_FLOOR_DB = -100.0


@dataclass(frozen=True)
class FeatureSpec:
    sample_rate: int = 22050
    n_fft: int = 1024
    hop: int = 512
    n_mels: int = 64
    fmin: float = 20.0
    fmax: float = 11025.0
    window_frames: int = 128
    window_hop: int = 64  # frames between windows when a whole file is read

    def asdict(self) -> dict:
        return asdict(self)

    @property
    def window_seconds(self) -> float:
        return self.window_frames * self.hop / self.sample_rate

    def mel_filters(self) -> np.ndarray:
        return _mel_filters(self)


@lru_cache(maxsize=8)
def _mel_filters(spec: FeatureSpec) -> np.ndarray:
    import librosa

    return librosa.filters.mel(
        sr=spec.sample_rate, n_fft=spec.n_fft, n_mels=spec.n_mels, fmin=spec.fmin, fmax=spec.fmax, htk=False, norm="slaney"
    ).astype(np.float32)


@dataclass
class Frames:
    """A track's frames: log-mel [n_mels, T] and the per-frame quantities the live features summarise [6 + bands, T]."""

    log_mel: np.ndarray
    per_frame: np.ndarray  # rows: rms_db, flux, centroid, then one power fraction per band

    @property
    def count(self) -> int:
        return self.log_mel.shape[1]


def power_spectrogram(audio: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """|STFT|^2 [n_fft/2 + 1, T]: ``librosa.stft(center=True, pad_mode="constant")``, framed in NumPy (tested equal)."""
    padded = np.pad(np.asarray(audio, dtype=np.float32), spec.n_fft // 2)
    count = 1 + (len(padded) - spec.n_fft) // spec.hop
    framed = np.lib.stride_tricks.sliding_window_view(padded, spec.n_fft)[:: spec.hop][:count]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(spec.n_fft) / spec.n_fft)  # periodic Hann
    spectrum = np.fft.rfft(framed * window.astype(np.float32), axis=1)
    return (spectrum.real**2 + spectrum.imag**2).T.astype(np.float32)


def frames(audio: np.ndarray, spec: FeatureSpec) -> Frames:
    if len(audio) < spec.n_fft:
        audio = np.pad(audio, (0, spec.n_fft - len(audio)))
    power = power_spectrogram(audio, spec)
    log_mel = 10.0 * np.log10(np.maximum(spec.mel_filters() @ power, 1e-10))
    freqs = np.fft.rfftfreq(spec.n_fft, 1.0 / spec.sample_rate)
    total = power.sum(axis=0) + 1e-12
    rms = np.sqrt(2.0 * total) / spec.n_fft  # Parseval for a Hann window, up to a constant
    rms_db = 20.0 * np.log10(np.maximum(rms, 1e-5))
    flux = np.concatenate([[0.0], np.maximum(np.diff(log_mel, axis=1), 0.0).mean(axis=0)])
    centroid = (freqs[:, None] * power).sum(axis=0) / total / (spec.sample_rate / 2)
    bands = [power[(freqs >= lo) & (freqs < hi)].sum(axis=0) / total for lo, hi in BANDS.values()]
    per_frame = np.vstack([rms_db, flux, centroid, *bands]).astype(np.float32)
    return Frames(log_mel.astype(np.float32), per_frame)


def _tempo(flux: np.ndarray, frame_rate: float) -> tuple[float, float]:
    """(BPM, confidence): the strongest autocorrelation peak of the onset curve between 30 and 260 BPM."""
    x = flux - flux.mean()
    energy = float(x @ x)
    lo, hi = max(2, int(frame_rate * 60 / 260)), min(len(x) - 2, int(frame_rate * 60 / 30))
    if energy <= 1e-9 or hi <= lo:
        return 0.0, 0.0
    lags = np.arange(lo, hi + 1)
    ac = np.array([x[:-lag] @ x[lag:] for lag in lags]) / energy
    # a prior around 120 BPM (one octave wide, as librosa's tempo estimate): a beat, not every other beat
    prior = np.exp(-0.5 * np.log2(60.0 * frame_rate / lags / 120.0) ** 2)
    best = int(np.argmax(ac * prior))
    # confidence unbiased: the lag's sum has len(x) - lag terms, so a 3 s window does not shrink slow beats
    confidence = ac[best] * len(x) / (len(x) - lags[best])
    return 60.0 * frame_rate / lags[best], float(np.clip(confidence, 0.0, 1.0))


def live_features(per_frame: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """One window's live vector (``LIVE_NAMES``), scaled to roughly unit ranges."""
    rms_db, flux, centroid, bands = per_frame[0], per_frame[1], per_frame[2], per_frame[3:]
    bpm, confidence = _tempo(flux, spec.sample_rate / spec.hop)
    out = [rms_db.mean() / 20, rms_db.std() / 10, flux.mean() / 5, flux.std() / 5, centroid.mean()]
    out += list(bands.mean(axis=1)) + [bpm / 120, confidence]
    return np.asarray(out, dtype=np.float32)


def window_starts(count: int, spec: FeatureSpec) -> list[int]:
    if count <= spec.window_frames:
        return [0]
    starts = list(range(0, count - spec.window_frames + 1, spec.window_hop))
    return starts if starts[-1] == count - spec.window_frames else [*starts, count - spec.window_frames]


def crop(fr: Frames, start: int, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """(log-mel [n_mels, window_frames], live [LIVE_DIM]) of the window at ``start`` (short tracks padded with silence)."""
    mel = fr.log_mel[:, start : start + spec.window_frames]
    live = live_features(fr.per_frame[:, start : start + spec.window_frames], spec)
    if mel.shape[1] < spec.window_frames:
        mel = np.pad(mel, ((0, 0), (0, spec.window_frames - mel.shape[1])), constant_values=_FLOOR_DB)
    return np.ascontiguousarray(mel), live


def windows(audio: np.ndarray, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Every window of a file: log-mel [N, n_mels, window_frames], live [N, LIVE_DIM]."""
    fr = frames(audio, spec)
    pairs = [crop(fr, s, spec) for s in window_starts(fr.count, spec)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
