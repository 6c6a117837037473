"""Streaming style: smooth window probabilities and switch the announced style only with hysteresis.

Like the app's profile switch, a live set should not flicker between styles on every window. Each
new window's probabilities go into an exponential moving average (``alpha``); the announced style
changes only when another style's smoothed probability leads the current one's by ``margin`` for
``hold`` windows in a row. The first window announces its own best style.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class StyleSmoother:
    labels: list[str]
    alpha: float = 0.35
    margin: float = 0.15
    hold: int = 2
    smoothed: np.ndarray | None = field(default=None, init=False)
    current: int | None = field(default=None, init=False)
    _streak: int = field(default=0, init=False)

    def update(self, probs: np.ndarray) -> tuple[str, float]:
        """(announced style, its smoothed probability) after one window's probabilities."""
        probs = np.asarray(probs, dtype=np.float64)
        self.smoothed = probs if self.smoothed is None else (1 - self.alpha) * self.smoothed + self.alpha * probs
        best = int(np.argmax(self.smoothed))
        if self.current is None:
            self.current = best
        elif best != self.current and self.smoothed[best] - self.smoothed[self.current] >= self.margin:
            self._streak += 1
            if self._streak >= self.hold:
                self.current, self._streak = best, 0
        else:
            self._streak = 0
        return self.labels[self.current], float(self.smoothed[self.current])

    def run(self, window_probs: np.ndarray) -> list[tuple[str, float]]:
        return [self.update(p) for p in window_probs]
