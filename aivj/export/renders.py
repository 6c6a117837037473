"""Render a pack's distinct presets through the refinery and describe them as the presets table does.

Presets are keyed by content hash, so the frame cache (``aivj.refinery.cache.FrameCache``) serves
every preset any earlier export or ``aivj refine`` rendered: a second export renders nothing.
Descriptors come from ``library.load_bank`` and ``library.preset_table``, the functions that build
``presets.parquet``, so the model sees exactly the inputs it was trained on.

A preset that renders black or fails (crash, timeout, load error) is a *dead layer*: it is given
all-black frames, whose vitality is 0, so ``scoring.score_pairs`` applies the refinery's dead-layer
rule (S = T = 0; the pair keeps only what the other layer shows through the 50% mix). Pairs with a
dead layer get that refinery score in both ``--score`` modes: the refinery drops black presets
from training data, so no model has learnt what one looks like (docs/export.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aivj.contract.schema import RENDER_DIM
from aivj.refinery.bank import PresetBank
from aivj.refinery.cache import OK, FrameCache
from aivj.refinery.settings import RenderSettings

RENDER_COLUMNS = ("render_summary", "render_layout", "render_motion")  # the order PresetTable concatenates


@dataclass
class PackRenders:
    ids: list[str]  # distinct content hashes, the row order of ``render``/``has_render``
    bank: PresetBank  # the refinery's per-preset arrays for every id (dead ones from black frames)
    render: np.ndarray  # [N, RENDER_DIM] descriptors as in presets.parquet (zeros for dead presets)
    has_render: np.ndarray  # [N] 1 where rendered ok
    status: dict[str, dict]  # id -> the cache's status record
    cache: FrameCache
    counts: dict = field(default_factory=dict)

    @property
    def dead(self) -> set[str]:
        return {i for i in self.ids if self.status.get(i, {}).get("status") != OK}

    def row(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.ids)}


def black_frames(settings: RenderSettings) -> np.ndarray:
    return np.zeros((settings.frames, settings.store, settings.store, 3), dtype=np.uint8)


def _descriptor_matrix(files, bank: PresetBank) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """id -> render vector, built through preset_table and PresetTable's column order."""
    from aivj.refinery.library import preset_table
    from datamodules.pairs import _fixed_list_to_numpy

    table, failures = preset_table(files, bank)
    parts = [_fixed_list_to_numpy(table[name], table.schema.field(name).type.list_size)[0] for name in RENDER_COLUMNS]
    render = np.concatenate(parts, axis=1) if parts and table.num_rows else np.zeros((0, RENDER_DIM), np.float32)
    return dict(zip(table["preset_id"].to_pylist(), render)), failures


def render_pack(
    paths: dict[str, Path],
    workers: int | None,
    cache_root: Path | None = None,
    settings: RenderSettings | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> PackRenders:
    """``paths``: content hash -> one file with that content. Renders what the cache lacks."""
    from aivj.refinery.library import PresetFile, load_bank
    from aivj.refinery.render import Job, render_presets

    settings = settings or RenderSettings()
    cache = FrameCache(settings, cache_root)
    before = cache.statuses()
    cached = {i for i, rec in before.items() if i in paths and rec.get("status") == OK and cache.frames_path(i).exists()}
    ids = sorted(paths)
    jobs = [Job(i, str(Path(paths[i]).resolve())) for i in ids]  # workers run elsewhere: absolute paths only
    t0 = time.monotonic()
    status = render_presets(jobs, settings, cache, workers=workers, timeout=timeout, progress=progress)
    seconds = time.monotonic() - t0
    for i in ids:  # an "ok" whose frames file went missing cannot be described: count it as failed
        rec = status.get(i, {"status": "error", "reason": "no status after rendering"})
        if rec.get("status") == OK and not cache.frames_path(i).exists():
            rec = {**rec, "status": "error", "reason": f"{cache.frames_path(i)}: frames missing"}
        status[i] = rec
    ok = [i for i in ids if status[i]["status"] == OK]
    dead = [i for i in ids if status[i]["status"] != OK]
    parts = [load_bank(cache, ok, progress=progress)] if ok else []
    if dead:
        parts.append(
            PresetBank.from_frames(
                ((i, black_frames(settings)) for i in dead), _envelope(cache), settings.sample_frames(), settings.steps_per_beat
            )
        )
    bank = PresetBank.concat(parts).subset(ids) if parts else None
    files = [PresetFile(id=i, path=str(paths[i]), name=Path(paths[i]).stem, collection="", source="export") for i in ok]
    vectors, _ = _descriptor_matrix(files, bank) if ok else ({}, [])
    render = np.zeros((len(ids), RENDER_DIM), np.float32)
    has = np.zeros(len(ids), np.float32)
    for n, i in enumerate(ids):
        if i in vectors:
            render[n], has[n] = vectors[i], 1.0
    failed: dict[str, int] = {}
    for i in dead:
        failed[status[i]["status"]] = failed.get(status[i]["status"], 0) + 1
    counts = {
        "distinct_presets": len(ids),
        "cached": len(cached & set(ok)),
        "rendered": len([i for i in ok if i not in cached]),
        "failed": sum(failed.values()),
        "failed_by_status": failed,
        "render_seconds": round(seconds, 2),
        "cache_dir": str(cache.dir),
    }
    return PackRenders(ids, bank, render, has, status, cache, counts)


def _envelope(cache: FrameCache) -> np.ndarray:
    from aivj.refinery.library import render_envelope

    return render_envelope(cache)
