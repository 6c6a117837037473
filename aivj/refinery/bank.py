"""Per-preset arrays that pair scoring needs, reduced once from the cached frames.

Scoring a pair never touches frames: the composite is linear (``scoring.BLEND``), so the composite's
mean colour and luma maps are exact mixes of the layers' own. Per preset: mean RGB of every stored
frame [T, 3], 16x16 luma maps of every 4th frame [K, 256], motion energy [T-1] and vitality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aivj.contract.atomic import atomic_path
from aivj.refinery.descriptors import describe, motion_energy
from aivj.refinery.worker import luma

MAP_SIZE = 16
MAP_STRIDE = 4  # every 4th stored frame: 16 maps over 64 frames, 4 per beat


def reduce_frames(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rgb = frames.astype(np.float32).mean(axis=(1, 2)) / 255.0
    lum = luma(frames).astype(np.float32)
    t, s = lum.shape[:2]
    b = s // MAP_SIZE
    maps = lum[::MAP_STRIDE, : MAP_SIZE * b, : MAP_SIZE * b].reshape(-1, MAP_SIZE, b, MAP_SIZE, b).mean(axis=(2, 4))
    return rgb, maps.reshape(maps.shape[0], -1), motion_energy(lum).astype(np.float32)


@dataclass
class PresetBank:
    ids: list[str]
    rgb: np.ndarray  # float32 [N, T, 3]
    maps: np.ndarray  # float32 [N, K, 256]
    energy: np.ndarray  # float32 [N, T-1]
    vitality: np.ndarray  # float32 [N]
    envelope: np.ndarray  # float64 [T], audio RMS at each stored frame
    sample_frames: np.ndarray  # int [8], stored-frame index of each browser sample
    descriptors: dict  # id -> describe() output

    def index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.ids)}

    @classmethod
    def from_frames(cls, items, envelope: np.ndarray, sample_frames, steps_per_beat: int = 16) -> PresetBank:
        """``items``: iterable of (id, frames uint8 [T, S, S, 3])."""
        ids, rgbs, maps, energies, vits, descs = [], [], [], [], [], {}
        for pid, frames in items:
            d = describe(frames, envelope, steps_per_beat)
            r, m, e = reduce_frames(frames)
            ids.append(pid), rgbs.append(r), maps.append(m), energies.append(e), vits.append(d["vitality"])
            descs[pid] = d
        return cls(
            ids,
            np.stack(rgbs),
            np.stack(maps),
            np.stack(energies),
            np.asarray(vits, np.float32),
            np.asarray(envelope, np.float64),
            np.asarray(sample_frames, np.int64),
            descs,
        )

    def save(self, path: Path) -> None:
        summ = np.stack([self.descriptors[k]["summary"] for k in self.ids])
        lay = np.stack([self.descriptors[k]["layout"] for k in self.ids])
        mot = np.stack([self.descriptors[k]["motion"] for k in self.ids])
        path = Path(path)
        # a unique temp name: two processes describing into one cache must not write one file
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                ids=np.asarray(self.ids),
                rgb=self.rgb,
                maps=self.maps,
                energy=self.energy,
                vitality=self.vitality,
                envelope=self.envelope,
                sample_frames=self.sample_frames,
                summary=summ,
                layout=lay,
                motion=mot,
            )

    @classmethod
    def load(cls, path: Path) -> PresetBank:
        # Each z[name] reads the whole array from the archive again: read every array once, or
        # loading N presets costs N full reads and keeps N copies alive (24 GB at 11,000 presets).
        with np.load(path) as z:
            arrays = {name: z[name] for name in z.files}
        ids = [str(x) for x in arrays["ids"]]
        summary, layout, motion, vitality = (arrays[k] for k in ("summary", "layout", "motion", "vitality"))
        descs = {
            k: {"summary": summary[i], "layout": layout[i], "motion": motion[i], "vitality": float(vitality[i])}
            for i, k in enumerate(ids)
        }
        return cls(
            ids, arrays["rgb"], arrays["maps"], arrays["energy"], vitality, arrays["envelope"], arrays["sample_frames"], descs
        )

    def subset(self, ids: list[str]) -> PresetBank:
        ix = self.index()
        sel = np.asarray([ix[k] for k in ids], dtype=np.int64)
        return PresetBank(
            list(ids),
            self.rgb[sel],
            self.maps[sel],
            self.energy[sel],
            self.vitality[sel],
            self.envelope,
            self.sample_frames,
            {k: self.descriptors[k] for k in ids},
        )

    @classmethod
    def concat(cls, banks: list[PresetBank]) -> PresetBank:
        b0 = banks[0]
        descs = {}
        for b in banks:
            descs.update(b.descriptors)
        return cls(
            sum((b.ids for b in banks), []),
            np.concatenate([b.rgb for b in banks]),
            np.concatenate([b.maps for b in banks]),
            np.concatenate([b.energy for b in banks]),
            np.concatenate([b.vitality for b in banks]),
            b0.envelope,
            b0.sample_frames,
            descs,
        )
