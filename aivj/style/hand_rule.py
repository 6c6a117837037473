"""The baseline to beat: newliveweb's hand-made profile rule over energy, flux, kick and beat confidence.

The app picks one of three profiles (ambient / techno / rock) from four live quantities; its
thresholds were never written down (the aidata formats note says only which quantities it reads).
Restated here as a decision list over this package's live features (aivj/style/features.py):

    energy (rms level, dB / 20)   flux (mean onset strength)   kick (power fraction 40-110 Hz)
    beat confidence (flux autocorrelation peak)

    if energy < energy_low or beat_confidence < beat_low:      ambient   (quiet or no steady pulse)
    elif kick >= kick_high and flux < flux_high:               techno    (a steady, kick-heavy grid)
    else:                                                      rock

Because the app's numbers are unknown, ``fit_thresholds`` gives the rule its best chance: a grid
search of the four thresholds on the training tracks (profile macro F1), then it is measured on
the held-out tracks beside the model. Profiles map to styles as ``PROFILE_OF``; the rule names
three styles, so on six labels the other three are never predicted.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from aivj.style.features import LIVE_NAMES

PROFILES = ("ambient", "techno", "rock")
# each style's profile: what the rule can at best answer for it
PROFILE_OF = {
    "techno": "techno",
    "drum_and_bass": "techno",
    "hiphop": "techno",
    "ambient": "ambient",
    "classical": "ambient",
    "rock": "rock",
}
_COL = {name: LIVE_NAMES.index(name) for name in ("rms_db", "flux", "band_kick", "beat_confidence")}


@dataclass(frozen=True)
class HandRule:
    energy_low: float = -1.6  # -32 dB
    beat_low: float = 0.3
    kick_high: float = 0.3
    flux_high: float = 0.5

    def profiles(self, live: np.ndarray) -> np.ndarray:
        """Profile index (``PROFILES``) per window; ``live`` [N, LIVE_DIM]."""
        energy, flux = live[:, _COL["rms_db"]], live[:, _COL["flux"]]
        kick, beat = live[:, _COL["band_kick"]], live[:, _COL["beat_confidence"]]
        out = np.full(len(live), PROFILES.index("rock"))
        out[(kick >= self.kick_high) & (flux < self.flux_high)] = PROFILES.index("techno")
        out[(energy < self.energy_low) | (beat < self.beat_low)] = PROFILES.index("ambient")
        return out

    def asdict(self) -> dict:
        return asdict(self)


def f1_per_class(pred: np.ndarray, true: np.ndarray, n: int) -> list[float]:
    scores = []
    for c in range(n):
        tp = np.sum((pred == c) & (true == c))
        denom = np.sum(pred == c) + np.sum(true == c)
        scores.append(float(2 * tp / denom) if denom else 0.0)
    return scores


def macro_f1(pred: np.ndarray, true: np.ndarray, n: int) -> float:
    return float(np.mean(f1_per_class(pred, true, n)))


def track_vote(window_pred: np.ndarray, tracks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(track ids, the most frequent window answer per track; ties to the lower index)."""
    ids, inverse = np.unique(tracks, return_inverse=True)
    counts = np.bincount(inverse * n + window_pred, minlength=len(ids) * n).reshape(len(ids), n)
    return ids, counts.argmax(axis=1)


def fit_thresholds(live: np.ndarray, profile: np.ndarray, tracks: np.ndarray) -> HandRule:
    """The grid point with the best track-level profile macro F1 on these (training) windows."""
    quant = lambda col: np.unique(np.quantile(live[:, _COL[col]], np.linspace(0.05, 0.95, 7)))
    truth = np.array([profile[tracks == t][0] for t in np.unique(tracks)])
    best, best_f1 = HandRule(), -1.0
    for e, b, k, f in itertools.product(quant("rms_db"), quant("beat_confidence"), quant("band_kick"), quant("flux")):
        rule = HandRule(float(e), float(b), float(k), float(f))
        f1 = macro_f1(track_vote(rule.profiles(live), tracks, len(PROFILES))[1], truth, len(PROFILES))
        if f1 > best_f1:
            best, best_f1 = rule, f1
    return best
