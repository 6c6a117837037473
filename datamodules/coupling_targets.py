"""The coupling targets of a pairs table as batch columns (aivj/contract/batch.py COUPLING_LABELS).

Present only when the table has the coupling columns (``aivj refine coupling``); a pair that was not
searched gets NaN targets and phase class -1, which the loss and the metrics skip.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from aivj.contract import coupling as cc


def coupling_columns(schema_names) -> list[str]:
    """The coupling columns to read: all of them when the table has them, else none."""
    return list(cc.COUPLING_COLUMNS) if set(cc.COUPLING_COLUMNS) <= set(schema_names) else []


def coupling_targets(table: pa.Table) -> dict[str, np.ndarray]:
    """{"coupling_target": [n, 5] float32 in [0, 1] (NaN where none), "coupling_phase": [n] int64 (-1 where none)}."""
    if not coupling_columns(table.column_names):
        return {}
    raw = np.stack([table[c].fill_null(float("nan")).to_numpy().astype(np.float64) for c in cc.SETTING_COLUMNS], axis=1)
    phase = table["coupling_phase"]
    seen = phase.is_valid().to_numpy(zero_copy_only=False)
    cls = np.where(seen, cc.phase_class(phase.fill_null(0).to_numpy()), -1)
    return {"coupling_target": cc.normalise(raw).astype(np.float32), "coupling_phase": cls.astype(np.int64)}
