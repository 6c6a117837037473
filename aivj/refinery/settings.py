"""Render settings shared by the worker, the cache key and the descriptors.

The frame period is one sixteenth of a beat (128 BPM -> 29.3 ms, 34.1 fps), so 16 frames are one
beat cycle and the 64 stored frames (1.875 s) cover the user's 8 browser samples 250 ms apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from aivj.milk.audio import SAMPLE_RATE

SETTINGS_VERSION = 1


@dataclasses.dataclass(frozen=True)
class RenderSettings:
    width: int = 128  # render size: at 64 or 96 px many presets render black (measured), at 128 few
    height: int = 128
    store: int = 32  # stored frames are box-downsampled to store x store RGB uint8
    mesh_x: int = 32
    mesh_y: int = 24
    bpm: float = 128.0
    steps_per_beat: int = 16  # frames per beat: the virtual clock advances 1/steps of a beat
    black_frames: int = 8  # black preset before each preset (clears feedback; primes audio)
    warmup: int = 32  # frames rendered and skipped (2 beats)
    frames: int = 64  # frames stored (4 beats)
    seed: int = 1234  # srand() before each preset
    audio: str = "techno"  # program name or .wav path

    @property
    def frame_seconds(self) -> float:
        return 60.0 / self.bpm / self.steps_per_beat

    @property
    def samples_per_frame(self) -> int:
        return int(round(SAMPLE_RATE * self.frame_seconds))

    @property
    def total_frames(self) -> int:
        return self.black_frames + self.warmup + self.frames

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RenderSettings:
        return cls(**json.loads(text))

    def tag(self) -> str:
        """Cache folder name: changes whenever anything that changes frames changes."""
        from aivj.refinery.native import ABI_VERSION, SOURCE

        h = hashlib.sha256(f"{SETTINGS_VERSION}|{ABI_VERSION}|{self.to_json()}".encode())
        h.update(SOURCE.read_bytes())
        audio = self.audio.rsplit("/", 1)[-1].replace(".wav", "")
        return f"{audio}-{self.width}px-{h.hexdigest()[:10]}"

    def sample_frames(self, n_samples: int = 8, period_s: float = 0.25) -> list[int]:
        """Stored-frame indices of the browser's samples (every 250 ms from the first stored frame)."""
        return [int(round(k * period_s / self.frame_seconds)) for k in range(n_samples)]
