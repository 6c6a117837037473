"""The one on-disk layout every data source maps into: a presets table and a pairs table.

Real packs (ingestion), refinery renders and the synthetic set all write these two tables;
the datamodule joins them by preset id when it builds batches. Changing a column here is a
format change: bump ``LAYOUT_VERSION`` and say why in docs/data-layout.md. Nothing here imports more than
pyarrow: every package (ingest, refinery, training, export, services) reads the layout from here.
"""

from __future__ import annotations

import pyarrow as pa

# 2: presets gain category and twin_group; 3: pairs files carry fg_row/bg_row (docs/data-layout.md)
LAYOUT_VERSION = 3
# Bump whenever a static feature's meaning or scaling changes (aivj/milk/feature_spec.py, docs/features.md).
FEATURE_VERSION = 1

# Static .milk features (docs/features.md enumerates every dimension).
FEATURE_DIM = 64
# Render descriptors from one single-layer render of a preset (refinery):
# summary statistics, an 8x8 time-averaged luma map, a 16-step motion-energy series.
RENDER_SUMMARY_DIM = 16
RENDER_LAYOUT_DIM = 64
RENDER_MOTION_DIM = 16
RENDER_DIM = RENDER_SUMMARY_DIM + RENDER_LAYOUT_DIM + RENDER_MOTION_DIM

SPLITS = ("train", "val", "test_seen", "test_unseen", "golden")
SCORE_BINS = (0, 1, 2, 3, 4)  # [0,1) [1,2) [2,3) [3,4) [4,5]
RANK_QUARTILES = ("Q1", "Q2", "Q3", "Q4")  # Q1 = best 25% by rank within the pack

PRESETS_SCHEMA = pa.schema(
    [
        pa.field("preset_id", pa.string(), nullable=False),  # content hash (hex) of the .milk text
        pa.field("features", pa.list_(pa.float32(), FEATURE_DIM), nullable=False),
        pa.field("feature_version", pa.int16(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("source", pa.string()),
        pa.field("collection", pa.string()),
        pa.field("style_tags", pa.list_(pa.string())),
        # The collection's own folder theme, e.g. "Fractal/Nested Spiral" (docs/data-layout.md); null when none.
        pa.field("category", pa.string()),
        # preset_id of the twin group's representative: presets that behave as one (aivj/refinery/twins.py).
        pa.field("twin_group", pa.string()),
        # Filled by the refinery; null until the preset has been rendered once.
        pa.field("render_summary", pa.list_(pa.float32(), RENDER_SUMMARY_DIM)),
        pa.field("render_layout", pa.list_(pa.float32(), RENDER_LAYOUT_DIM)),
        pa.field("render_motion", pa.list_(pa.float32(), RENDER_MOTION_DIM)),
    ]
)

PAIRS_SCHEMA = pa.schema(
    [
        pa.field("pack", pa.string(), nullable=False),
        pa.field("pair", pa.int64(), nullable=False),
        pa.field("fg_id", pa.string(), nullable=False),
        pa.field("bg_id", pa.string(), nullable=False),
        pa.field("spatial_score", pa.float32()),  # measured S in [0,1]; null when not rendered
        pa.field("temporal_score", pa.float32()),  # measured T in [0,1]; null when not rendered
        pa.field("score", pa.float32(), nullable=False),  # 0-5
        pa.field("quality01", pa.float32(), nullable=False),  # score / 5 unless the source says otherwise
        pa.field("rank", pa.int64(), nullable=False),  # 1 = best within its pack
        pa.field("rank_quartile", pa.string(), nullable=False),
        pa.field("score_bin", pa.int8(), nullable=False),
        pa.field("is_elite", pa.bool_(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
    ]
)

# Written by write_dataset beside PAIRS_SCHEMA's columns (writers never supply them): each pair's
# row in the presets.parquet written with it, so readers skip the id join while that file is current.
PAIR_ROW_COLUMNS = ("fg_row", "bg_row")
# Optional beside them: the coupling columns of `aivj refine coupling` (each searched pair's best coupling
# setting, its score and gain), defined with their types in aivj/contract/coupling.py PAIR_COUPLING_FIELDS.

PARTITION_COLUMNS = ("score_bin", "rank_quartile")
PARTITIONING = pa.schema([pa.field("score_bin", pa.int8()), pa.field("rank_quartile", pa.string())])
