"""One recipe per style: tempo, key, patterns and General MIDI instruments drawn from wide pools.

A model trained on one synthesiser learns that synthesiser, so every choice that is not what makes
the style (instrument, kit, key, scale, pattern, density, swing, humanising, mix levels) is drawn
per track. Drum kits are General MIDI bank-128 programs: 0 standard, 8 room, 16 power,
24 electronic, 25 TR-808, 32 jazz, 40 brush, 48 orchestra.
"""

from __future__ import annotations

import math

import numpy as np

from aivj.style.compose import (
    CLAP,
    CONGA_HI,
    CONGA_LO,
    COWBELL,
    CRASH,
    HAT,
    KICK,
    KICK2,
    OPEN_HAT,
    PEDAL_HAT,
    RIDE,
    RIM,
    SHAKER,
    SNARE,
    SNARE2,
    TAMB,
    TOMS,
    Part,
    Song,
    chord,
    humanise,
    pick,
    scale_pitch,
)

SYNTH_BASS = (38, 39, 81, 87, 80, 33, 34)
SYNTH_LEADS = (80, 81, 82, 84, 87, 62, 63, 50, 51, 90, 5, 16)
PADS = (88, 89, 90, 91, 92, 93, 94, 95, 48, 49, 50, 52, 54)
BELLS = (8, 9, 10, 11, 12, 13, 14, 46, 98, 99, 100, 101, 102, 108)
KEYS = (0, 1, 2, 4, 5, 7, 11, 16, 17, 19)
BASS_GUITAR = (32, 33, 34, 35, 36, 37, 38)
PROGRESSIONS = {
    "loop": ((0, 0, 5, 3), (0, 3, 4, 0), (0, 6, 5, 4), (0, 0, 0, 0), (0, 2, 5, 4), (0, 5, 2, 6)),
    "tonal": ((0, 3, 4, 0), (0, 5, 3, 4), (1, 4, 0, 0), (0, 4, 5, 3), (5, 1, 4, 0), (0, 3, 1, 4)),
}


def _song(style: str, rng, bpm_range, seconds: float, scales) -> Song:
    bpm = float(rng.uniform(*bpm_range))
    beats = math.ceil(seconds * bpm / 60.0 / 4.0) * 4.0 + 4.0  # whole bars, one spare (trimmed after render)
    return Song(style, bpm, int(rng.integers(12)), pick(rng, scales), beats)


def _grid(part: Part, bar: int, steps: str, pitch: int, rng, vel=(80, 115), swing=0.0, jitter=0.01, n=16) -> None:
    """``steps``: one char per 16th, "x" hit, "o" soft hit, anything else rest."""
    for i, c in enumerate(steps[:n]):
        if c in "xo":
            beat = bar * 4 + i * 4.0 / n + (swing * 0.25 if i % 2 else 0.0)
            v = rng.integers(*vel) * (0.55 if c == "o" else 1.0)
            part.add(humanise(rng, beat, jitter), 0.2, pitch, v)


def _mutate(rng, steps: str, rate: float) -> str:
    return "".join(("x" if c == "." else ".") if rng.random() < rate else c for c in steps)


def _random_steps(rng, density: float, n=16) -> str:
    return "".join("x" if rng.random() < density else "." for _ in range(n))


def _chords(song: Song, part: Part, rng, prog, octave, rhythm: str, length: float, size=3, vel=(55, 95)) -> None:
    for bar in range(int(song.beats // 4)):
        notes = chord(song.key, song.scale, prog[bar % len(prog)], octave, size)
        for i, c in enumerate(rhythm):
            if c == "x":
                for p in notes:
                    part.add(humanise(rng, bar * 4 + i * 0.25, 0.01), length, p, rng.integers(*vel))


def techno(rng, seconds: float) -> Song:
    s = _song("techno", rng, (118, 140), seconds, ("minor", "phrygian", "dorian", "minor"))
    drums = s.part(pick(rng, (24, 25, 0, 16, 8)), rng, drum=True, volume=(95, 125))
    hats = pick(rng, ("..x...x...x...x.", "xxxxxxxxxxxxxxxx", "x.x.x.x.x.x.x.x.", "..x.x.x...x.x.xx"))
    clap = pick(rng, ("....x.......x...", "....x.......x..o", "................"))
    perc = _random_steps(rng, 0.2)
    bass, lead = s.part(pick(rng, SYNTH_BASS), rng), s.part(pick(rng, SYNTH_LEADS), rng, volume=(50, 100))
    bass_steps = pick(rng, ("..x...x...x...x.", "x.xx.xx.x.xx.xx.", "..xx..xx..xx..xx", "x..x..x..x..x.x."))
    stab = _random_steps(rng, rng.uniform(0.12, 0.35))
    prog, root = pick(rng, PROGRESSIONS["loop"]), int(rng.integers(1, 3))
    for bar in range(int(s.beats // 4)):
        _grid(drums, bar, "x...x...x...x...", pick(rng, (KICK, KICK2)), rng, (100, 127), jitter=0.003)
        _grid(drums, bar, _mutate(rng, hats, 0.05), pick(rng, (HAT, OPEN_HAT, PEDAL_HAT)), rng, (50, 100))
        _grid(drums, bar, clap, pick(rng, (CLAP, SNARE, RIM)), rng)
        _grid(drums, bar, perc, pick(rng, (RIM, COWBELL, TAMB, CONGA_HI, SHAKER)), rng, (40, 80))
        deg = prog[(bar // 2) % len(prog)]
        for i, c in enumerate(bass_steps):
            if c == "x":
                bass.add(bar * 4 + i * 0.25, 0.22, scale_pitch(s.key, s.scale, deg, root) + pick(rng, (0, 0, 0, 12)), 100)
        for i, c in enumerate(stab):
            if c == "x":
                for p in chord(s.key, s.scale, deg, 5):
                    lead.add(bar * 4 + i * 0.25, 0.18, p, rng.integers(60, 100))
    if rng.random() < 0.5:
        _chords(s, s.part(pick(rng, PADS), rng, volume=(40, 80)), rng, prog, 4, "x" + "." * 15, 4.0)
    return s


DNB_BREAKS = (
    ("x.........x.....", "....x.......x..."),
    ("x.x.......x.....", "....x..o.o..x..o"),
    ("x.........xx....", "....x.......x.o."),
    ("x......x..x.....", "....x.o.....x..."),
)


def drum_and_bass(rng, seconds: float) -> Song:
    s = _song("drum_and_bass", rng, (160, 180), seconds, ("minor", "dorian", "minor", "harmonic_minor"))
    drums = s.part(pick(rng, (0, 24, 25, 16, 8, 32)), rng, drum=True, volume=(95, 125))
    cym = pick(rng, (HAT, RIDE, SHAKER, TAMB))
    cym_steps = pick(rng, ("x.x.x.x.x.x.x.x.", "xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxx.xx"))
    sub = s.part(pick(rng, (38, 39, 87, 33, 34, 81)), rng, volume=(90, 120))
    prog = pick(rng, PROGRESSIONS["loop"])
    for bar in range(int(s.beats // 4)):
        kick, snare = DNB_BREAKS[int(rng.integers(len(DNB_BREAKS)))]
        _grid(drums, bar, kick, KICK, rng, (100, 127), jitter=0.004)
        _grid(drums, bar, snare, pick(rng, (SNARE, SNARE2)), rng, (95, 127), jitter=0.004)
        _grid(drums, bar, _mutate(rng, cym_steps, 0.08), cym, rng, (40, 90))
        deg = prog[(bar // 2) % len(prog)]
        start = pick(rng, (0.0, 0.0, 1.5, 2.5))
        sub.add(bar * 4 + start, 4.0 - start - 0.1, scale_pitch(s.key, s.scale, deg, int(rng.integers(1, 3))), 110)
    if rng.random() < 0.8:
        rhythm = pick(rng, ("x" + "." * 15, "x.......x.......", "x..x..x........."))
        _chords(s, s.part(pick(rng, PADS + KEYS), rng, volume=(45, 90)), rng, prog, 4, rhythm, 2.0, size=4)
    if rng.random() < 0.5:
        lead = s.part(pick(rng, SYNTH_LEADS + BELLS), rng, volume=(40, 85))
        for b in np.arange(0, s.beats, pick(rng, (0.5, 0.75, 1.0))):
            if rng.random() < 0.4:
                lead.add(b, 0.4, scale_pitch(s.key, s.scale, int(rng.integers(0, 8)), 5), rng.integers(60, 100))
    return s


def hiphop(rng, seconds: float) -> Song:
    s = _song("hiphop", rng, (78, 100), seconds, ("minor", "dorian", "major", "minor", "mixolydian"))
    swing = float(rng.uniform(0.0, 0.35))
    drums = s.part(pick(rng, (0, 8, 25, 32, 40, 24)), rng, drum=True, volume=(95, 125))
    kick = pick(rng, ("x.......x.x.....", "x..x......x.....", "x......x..x..x..", "x.x.......x...x."))
    hats = pick(rng, ("x.x.x.x.x.x.x.x.", "x.xxx.x.x.xxx.x.", "xxxxxxxxxxxxxxxx", "x...x...x...x..."))
    bass = s.part(pick(rng, BASS_GUITAR + (38, 39)), rng, volume=(90, 120))
    keys = s.part(pick(rng, KEYS + (48, 61, 56, 11, 24, 25, 26)), rng, volume=(50, 95))
    prog = pick(rng, PROGRESSIONS["loop"] + PROGRESSIONS["tonal"])
    bass_steps = _mutate(rng, kick, 0.1)
    for bar in range(int(s.beats // 4)):
        _grid(drums, bar, _mutate(rng, kick, 0.04), KICK, rng, (95, 127), swing=swing, jitter=0.015)
        _grid(drums, bar, "....x.......x...", pick(rng, (SNARE, CLAP, SNARE2, RIM)), rng, (95, 127), swing=swing, jitter=0.015)
        _grid(drums, bar, hats, pick(rng, (HAT, HAT, PEDAL_HAT, SHAKER)), rng, (35, 95), swing=swing, jitter=0.02)
        deg = prog[bar % len(prog)]
        for i, c in enumerate(bass_steps):
            if c == "x":
                beat = bar * 4 + i * 0.25 + (swing * 0.25 if i % 2 else 0)
                bass.add(beat, 0.45, scale_pitch(s.key, s.scale, deg, 2), rng.integers(90, 120))
    rhythm = pick(rng, ("x.......x.......", "x.....x...x.....", "x" + "." * 15, "..x...x...x...x."))
    _chords(s, keys, rng, prog, 4, rhythm, pick(rng, (0.5, 1.5, 3.5)), size=int(rng.integers(3, 5)))
    return s


def ambient(rng, seconds: float) -> Song:
    s = _song("ambient", rng, (50, 95), seconds, ("major", "minor", "dorian", "mixolydian", "major"))
    prog = pick(rng, PROGRESSIONS["tonal"] + PROGRESSIONS["loop"])
    bars = int(s.beats // 4)
    for _ in range(int(rng.integers(1, 3))):
        pad = s.part(pick(rng, PADS), rng, volume=(50, 100), reverb=(60, 127))
        hold = pick(rng, (1, 2))
        for bar in range(0, bars, hold):
            for p in chord(s.key, s.scale, prog[(bar // hold) % len(prog)], int(rng.integers(3, 5)), int(rng.integers(3, 5))):
                pad.add(bar * 4 + rng.uniform(0, 0.8), hold * 4 + rng.uniform(0.5, 2), p, rng.integers(40, 90))
    drone = s.part(pick(rng, PADS + (42, 43, 70, 71)), rng, volume=(40, 90), reverb=(60, 127))
    drone.add(0, s.beats, scale_pitch(s.key, s.scale, 0, 2), rng.integers(50, 90))
    if rng.random() < 0.8:
        bells, b = s.part(pick(rng, BELLS + (0, 46, 11)), rng, volume=(40, 90), reverb=(70, 127)), 0.0
        while b < s.beats:
            bells.add(b, rng.uniform(1, 4), scale_pitch(s.key, s.scale, int(rng.integers(0, 10)), 5), rng.integers(30, 80))
            b += rng.uniform(0.5, 3.0)
    if rng.random() < 0.25:  # a faint pulse: ambient is not only beatless pads
        perc = s.part(pick(rng, (0, 40, 48)), rng, drum=True, volume=(30, 60))
        for bar in range(bars):
            _grid(perc, bar, "x.......x.......", pick(rng, (SHAKER, RIDE, CONGA_LO, RIM)), rng, (20, 55), jitter=0.03)
    return s


ENSEMBLES = ((0,), (0,), (1,), (6,), (40, 40, 41, 42), (48, 49, 73, 71, 60, 70), (48, 68, 42), (46, 73), (19,), (24, 73))


def classical(rng, seconds: float) -> Song:
    s = _song("classical", rng, (60, 150), seconds, ("major", "minor", "major", "harmonic_minor"))
    s.tempo_changes = [(b, s.bpm * rng.uniform(0.9, 1.08)) for b in np.arange(4.0, s.beats, 4.0)]  # rubato
    progs, ens = PROGRESSIONS["tonal"], pick(rng, ENSEMBLES)
    prog = pick(rng, progs) + pick(rng, progs)
    low = s.part(ens[-1], rng, volume=(70, 110), reverb=(40, 100))
    high = s.part(ens[0], rng, volume=(75, 120), reverb=(40, 100))
    mids = [s.part(p, rng, volume=(50, 95), reverb=(40, 100)) for p in ens[1:-1]]
    texture = pick(rng, ("alberti", "block", "arpeggio", "walking"))
    step = pick(rng, (0.25, 0.5, 0.5, 1.0))
    degree = int(rng.integers(7, 12))
    for bar in range(int(s.beats // 4)):
        swell = 0.75 + 0.25 * math.sin(bar / 2.0 + rng.uniform(0, 0.5))  # phrase dynamics
        deg = prog[bar % len(prog)]
        tones = chord(s.key, s.scale, deg, 3)
        order = {"alberti": (0, 2, 1, 2), "block": (0,), "arpeggio": (0, 1, 2, 1), "walking": (0, 1, 2, 3)}[texture]
        for k, b in enumerate(np.arange(0, 4, step if texture != "block" else 1.0)):
            notes = tones if texture == "block" else [(tones + [tones[0] + 12])[order[k % len(order)]]]
            for p in notes:
                low.add(humanise(rng, bar * 4 + b, 0.015), step * 0.95, p, 70 * swell)
        for m in mids:
            m.add(bar * 4, 4.0, pick(rng, chord(s.key, s.scale, deg, 4)), 60 * swell)
        b = 0.0
        while b < 4.0:  # a melody that moves mostly by step
            degree = int(np.clip(degree + pick(rng, (-2, -1, -1, 1, 1, 2, 0, 3, -3)), 3, 16))
            dur = pick(rng, (0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0))
            high.add(humanise(rng, bar * 4 + b, 0.02), dur * 0.95, scale_pitch(s.key, s.scale, degree, 4), 90 * swell)
            b += dur
    if rng.random() < 0.15 and len(ens) > 3:
        timp = s.part(47, rng, volume=(60, 100))
        for bar in range(0, int(s.beats // 4), 2):
            timp.add(bar * 4, 1.0, scale_pitch(s.key, s.scale, 0, 2), 90)
    return s


def rock(rng, seconds: float) -> Song:
    s = _song("rock", rng, (92, 168), seconds, ("minor", "major", "mixolydian", "dorian", "minor"))
    drums = s.part(pick(rng, (0, 16, 8, 0)), rng, drum=True, volume=(95, 125))
    kick = pick(rng, ("x.......x.......", "x.......x.x.....", "x..x....x.......", "x.x.....x..x...."))
    cym = pick(rng, (HAT, HAT, RIDE, OPEN_HAT))
    guitar = s.part(pick(rng, (29, 30, 30, 31, 27, 81)), rng, volume=(85, 120))
    bass = s.part(pick(rng, BASS_GUITAR), rng, volume=(85, 120))
    chug = pick(rng, ("xxxxxxxx", "x.x.x.x.", "xx.xxx.x", "x..x..x."))
    mute = float(rng.uniform(0.15, 0.45))
    prog = pick(rng, PROGRESSIONS["loop"] + PROGRESSIONS["tonal"])
    for bar in range(int(s.beats // 4)):
        fill = bar % 4 == 3 and rng.random() < 0.6
        _grid(drums, bar, kick, KICK, rng, (100, 127), jitter=0.012)
        _grid(drums, bar, "....x.......x..." if not fill else "....x.......xxxx", SNARE, rng, (100, 127), jitter=0.012)
        _grid(drums, bar, "x.x.x.x.x.x.x.x." if not fill else "x.x.x.x.x.......", cym, rng, (60, 110), jitter=0.015)
        if fill:
            for i, t in enumerate(pick(rng, (TOMS, TOMS[::-1]))[:4]):
                drums.add(bar * 4 + 3 + i * 0.25, 0.2, t, rng.integers(90, 127))
        if bar % 4 == 0:
            drums.add(bar * 4, 1.0, CRASH, rng.integers(90, 120))
        deg = prog[bar % len(prog)]
        root = scale_pitch(s.key, s.scale, deg, 3)
        for i, c in enumerate(chug):
            if c == "x":
                for p in (root, root + 7, root + 12):  # power chord
                    guitar.add(humanise(rng, bar * 4 + i * 0.5, 0.01), 0.5 * (1 - mute), p, rng.integers(85, 120))
                bass.add(bar * 4 + i * 0.5, 0.45, root - 12, rng.integers(90, 120))
    if rng.random() < 0.5:
        second = s.part(pick(rng, (16, 17, 18, 25, 26, 27, 28, 29)), rng, volume=(50, 90))
        _chords(s, second, rng, prog, 4, pick(rng, ("x.......x.......", "x.x.x.x.x.x.x.x.")), 1.8)
    return s


RECIPES = {f.__name__: f for f in (techno, drum_and_bass, hiphop, ambient, classical, rock)}
