"""The score of a generated track: parts of notes in beats, a tempo map, and its MIDI file (mido).

Music theory is kept to what the recipes need: scales, chords stacked in thirds inside a scale,
progressions as scale degrees, humanised timing and velocity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
}
# General MIDI percussion keys (channel 10)
KICK, KICK2, RIM, SNARE, CLAP, SNARE2, HAT, PEDAL_HAT, OPEN_HAT = 36, 35, 37, 38, 39, 40, 42, 44, 46
CRASH, RIDE, RIDE_BELL, TAMB, COWBELL, SHAKER, CONGA_HI, CONGA_LO = 49, 51, 53, 54, 56, 70, 62, 64
TOMS = (41, 43, 45, 47, 48, 50)
DRUM_CHANNEL = 9
TICKS = 480


@dataclass
class Part:
    program: int
    drum: bool = False
    volume: int = 100  # CC7
    pan: int = 64  # CC10
    reverb: int = 40  # CC91
    chorus: int = 0  # CC93
    notes: list[tuple[float, float, int, int]] = field(default_factory=list)  # start beat, beats, pitch, velocity

    def add(self, start: float, length: float, pitch: int, velocity: float) -> None:
        if 0 <= pitch <= 127 and length > 0:
            self.notes.append((float(start), float(length), int(pitch), int(np.clip(velocity, 1, 127))))


@dataclass
class Song:
    style: str
    bpm: float
    key: int
    scale: str
    beats: float
    parts: list[Part] = field(default_factory=list)
    tempo_changes: list[tuple[float, float]] = field(default_factory=list)  # (beat, bpm) after the first
    meta: dict = field(default_factory=dict)

    def part(self, program: int, rng: np.random.Generator, drum: bool = False, volume=(70, 115), reverb=(10, 70)) -> Part:
        p = Part(
            program,
            drum,
            volume=int(rng.integers(*volume)),
            pan=int(np.clip(64 + rng.normal(0, 22), 0, 127)),
            reverb=int(rng.integers(*reverb)),
            chorus=int(rng.integers(0, 50)),
        )
        self.parts.append(p)
        return p


def scale_pitch(key: int, scale: str, degree: int, octave: int) -> int:
    steps = SCALES[scale]
    return 12 * (octave + degree // len(steps)) + key + steps[degree % len(steps)]


def chord(key: int, scale: str, degree: int, octave: int, size: int = 3) -> list[int]:
    return [scale_pitch(key, scale, degree + 2 * i, octave) for i in range(size)]


def humanise(rng: np.random.Generator, beat: float, spread: float) -> float:
    return max(0.0, beat + float(rng.normal(0, spread)))


def pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _events(part: Part, channel: int, beat_to_tick) -> list[tuple[int, int, object]]:
    import mido

    ch = DRUM_CHANNEL if part.drum else channel
    out = [
        (0, 0, mido.Message("program_change", program=part.program, channel=ch)),
        (0, 0, mido.Message("control_change", control=7, value=part.volume, channel=ch)),
        (0, 0, mido.Message("control_change", control=10, value=part.pan, channel=ch)),
        (0, 0, mido.Message("control_change", control=91, value=part.reverb, channel=ch)),
        (0, 0, mido.Message("control_change", control=93, value=part.chorus, channel=ch)),
    ]
    for start, length, pitch, vel in part.notes:
        on, off = beat_to_tick(start), beat_to_tick(start + length)
        out.append((on, 2, mido.Message("note_on", note=pitch, velocity=vel, channel=ch)))
        out.append((max(off, on + 1), 1, mido.Message("note_off", note=pitch, velocity=0, channel=ch)))
    return out


def write_midi(song: Song, path: Path) -> None:
    """Type-1 MIDI: a tempo track, then one track per part (melodic parts on channels 0-8, 10-15)."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    to_tick = lambda beat: int(round(beat * TICKS))
    tempo = mido.MidiTrack()
    tempo.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(song.bpm), time=0))
    last = 0
    for beat, bpm in sorted(song.tempo_changes):
        tempo.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=to_tick(beat) - last))
        last = to_tick(beat)
    mid.tracks.append(tempo)
    channels = [c for c in range(16) if c != DRUM_CHANNEL]
    for i, part in enumerate(song.parts):
        track, now = mido.MidiTrack(), 0
        # note_off (1) before note_on (2) at the same tick: a repeated note is re-struck, not cut
        for tick, _, msg in sorted(_events(part, channels[i % len(channels)], to_tick), key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(str(path))
