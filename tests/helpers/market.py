"""A small market to test against: a dataset folder in the layout, preset texts, cached frames, a tiny champion.

``make_market(tmp)`` writes ``tmp/data`` (presets.parquet, elite.parquet, _summary.json), the
presets' .milk files under ``tmp/presets`` (one left out: its templates are metadata-only), frames
for all but one preset under ``tmp/cache`` (that one's templates get no preview), a registry with a
tiny champion, and returns the market config pointing at them plus the loaded scorer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aivj.contract.schema import FEATURE_VERSION, PAIRS_SCHEMA, PRESETS_SCHEMA
from aivj.market import config
from aivj.milk.features import extract_features
from aivj.milk.hashing import content_hash
from aivj.milk.parser import parse_milk
from aivj.refinery.cache import FrameCache
from aivj.refinery.settings import RenderSettings
from tests.helpers.tiny_module import trust_test_helpers
from tests.helpers.tiny_versions import PASSING, register_tiny

MILK = (
    "[preset00]\nfRating=5.000\nfDecay={decay:.3f}\nwarp={warp:.3f}\nzoom={zoom:.3f}\nrot={rot:.3f}\ncx=0.5\ncy=0.5\n"
    "nWaveMode={mode}\nper_frame_1=wave_r = 0.5 + 0.4*sin(time*{k:.3f});\nper_pixel_1=zoom = zoom + 0.01*rad;\n"
)
N_PRESETS, N_ELITE, FREE_TOP = 10, 12, 4


@dataclass
class Market:
    cfg: object
    scorer: object
    root: Path  # the store
    frames: Path
    presets: Path
    texts: dict  # preset id -> text
    no_text: str  # the preset whose file is missing
    no_frames: str  # the preset with no cached frames
    elite: list  # the elite rows as written


def milk_text(rng) -> str:
    return MILK.format(
        decay=rng.uniform(0.9, 1), warp=rng.uniform(0, 5), zoom=rng.uniform(0.8, 1.5), rot=rng.uniform(-1, 1),
        mode=int(rng.integers(0, 8)), k=rng.uniform(0.1, 3),
    )  # fmt: skip


def frames_of(seed: int, settings: RenderSettings) -> np.ndarray:
    """Smooth moving gradients (real previews compress like these, not like noise)."""
    t, y, x = np.meshgrid(np.arange(settings.frames), np.arange(settings.store), np.arange(settings.store), indexing="ij")
    base = np.stack([(x * 8 + t * (seed + 1)) % 256, (y * 8 + t * 3) % 256, ((x + y) * 4 + seed * 40) % 256], axis=-1)
    return base.astype(np.uint8)


def make_market(tmp: Path, seed: int = 0) -> Market:
    rng = np.random.default_rng(seed)
    presets_dir, data, frames = tmp / "presets", tmp / "data", tmp / "cache"
    presets_dir.mkdir(parents=True)
    data.mkdir()
    texts = {}
    while len(texts) < N_PRESETS:
        text = milk_text(rng)
        texts[content_hash(text)] = text
    ids = sorted(texts)
    no_text, no_frames = ids[0], ids[1]
    for i, pid in enumerate(ids):
        if pid != no_text:
            (presets_dir / f"preset {i}.milk").write_text(texts[pid])
    settings = RenderSettings()
    cache = FrameCache(settings, frames)
    for i, pid in enumerate(ids):
        if pid != no_frames:
            cache.save_frames(pid, frames_of(i, settings))
    features = [extract_features(parse_milk(texts[pid], pid)) for pid in ids]
    presets = pa.table(
        {
            "preset_id": ids,
            "features": [f.tolist() for f in features],
            "feature_version": [FEATURE_VERSION] * len(ids),
            "name": [f"preset {i}" for i in range(len(ids))],
            "source": ["test"] * len(ids),
            "collection": ["test"] * len(ids),
            "style_tags": [["wave"] if i % 2 else ["spiral", "minimal"] for i in range(len(ids))],
            "category": ["Test/Category"] * len(ids),
            "twin_group": ids,
            "render_summary": rng.uniform(0, 1, (len(ids), 16)).astype(np.float32).tolist(),
            "render_layout": rng.uniform(0, 1, (len(ids), 64)).astype(np.float32).tolist(),
            "render_motion": rng.uniform(0, 1, (len(ids), 16)).astype(np.float32).tolist(),
        },
        schema=PRESETS_SCHEMA,
    )
    pq.write_table(presets, data / "presets.parquet")
    pairs = [(a, b) for a in ids for b in ids if a != b]
    picked = [pairs[i] for i in rng.choice(len(pairs), N_ELITE, replace=False)]
    scores = rng.uniform(4.0, 4.5, N_ELITE)
    elite = [
        {"pack": "test_pack", "pair": i, "fg_id": fg, "bg_id": bg, "spatial_score": 0.6, "temporal_score": 0.4,
         "score": float(s), "quality01": float(s) / 5, "rank": i + 1, "rank_quartile": "Q1", "score_bin": 4,
         "is_elite": True, "source": "test", "split": "train"}
        for i, ((fg, bg), s) in enumerate(zip(picked, scores))
    ]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(elite, schema=PAIRS_SCHEMA), data / "elite.parquet")
    (data / "_summary.json").write_text(json.dumps({"cache_tag": settings.tag()}))
    reg = tmp / "registry"
    with pytest.MonkeyPatch.context() as mp:
        trust_test_helpers(mp)
        version = register_tiny(reg, tmp / "runs", PASSING, "champion", seed=seed)
        from aivj.inference import load_scorer

        scorer = load_scorer(version, reg)
    cfg = config.load(
        overrides=[
            f"dataset={data}", f"preset_folders=[{presets_dir}]", f"frame_cache={frames}", f"store={tmp / 'market'}",
            f"free_top={FREE_TOP}", "upload.render=never",
        ]
    )  # fmt: skip
    return Market(cfg, scorer, tmp / "market", frames, presets_dir, texts, no_text, no_frames, elite)


def build(market: Market):
    from aivj.market.build import build_library

    return build_library(market.cfg, market.scorer, Path(market.cfg.dataset), market.root, market.frames, progress=False)


def open_store(market: Market):
    from aivj.market.store import Store

    c = market.cfg
    return Store(market.root, int(c.free_top), int(c.similar.exact_limit), int(c.similar.nprobe))


def pair_body(fg: str, bg: str, fg_name: str = "fg.milk", bg_name: str = "bg.milk") -> dict:
    return {"fg": {"name": fg_name, "text": fg}, "bg": {"name": bg_name, "text": bg}}
