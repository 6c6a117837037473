"""The training sets of a daemon run, written as dataset folders beside the real one (``runs/<id>/views/``).

A view is the dataset with only some ``train`` pairs left in the train split (the others get the split
``unused``, which no loader reads); val, test and golden are the whole dataset's, so every stage is
measured on the same pairs. Views (docs/daemon.md):

``full``         every train pair (first run, or a full retrain)
``elite``        only the elite train pairs (the warm-up stage)
``incremental``  the train pairs no earlier run trained on, plus a replay sample of the old ones
                 (``replay_ratio`` old pairs per new pair, seeded) so the model does not forget

The sampler draws elite pairs into every batch. An imported aidata dataset holds its elite pairs in
the golden split only (they are the gate), so when no train pair is elite, the view marks the train
pairs scoring >= ELITE_SCORE as elite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aivj.contract.layout import pairs_dataset, read_presets, write_dataset
from aivj.contract.thresholds import ELITE_SCORE

UNUSED = "unused"
VIEW_KINDS = ("full", "elite", "incremental")


def pair_keys(table: pa.Table) -> list[tuple[str, int]]:
    return list(zip(table["pack"].to_pylist(), table["pair"].to_pylist()))


def dataset_keys(data_dir: Path) -> set[tuple[str, int]]:
    if not (Path(data_dir) / "pairs").is_dir():
        return set()
    return set(pair_keys(pairs_dataset(data_dir).to_table(columns=["pack", "pair"])))


def _choose(train: pa.Table, elite: np.ndarray, kind: str, new_keys: set, replay_ratio: float, seed: int) -> np.ndarray:
    if kind == "full":
        return np.ones(train.num_rows, bool)
    if kind == "elite":
        return elite.copy()
    is_new = np.array([k in new_keys for k in pair_keys(train)], bool)
    old = np.flatnonzero(~is_new)
    n_replay = min(len(old), int(round(replay_ratio * int(is_new.sum()))))
    keep = is_new.copy()
    keep[np.random.default_rng(seed).choice(old, n_replay, replace=False)] = True
    if not (keep & elite).any() and elite.any():  # the sampler needs elite pairs in every batch
        keep[np.flatnonzero(elite)[: max(1, int(elite.sum()) // 4)]] = True
    return keep


def write_view(data_dir: Path, out_dir: Path, kind: str, new_keys: set | None = None, replay_ratio: float = 1.0,
               seed: int = 0) -> dict:  # fmt: skip
    """Write the view; returns its counts (train pairs kept, of them new and replayed, elite)."""
    if kind not in VIEW_KINDS:
        raise ValueError(f"view kind must be one of {VIEW_KINDS}, got {kind!r}")
    pairs = pairs_dataset(data_dir).to_table()
    is_train = pc.equal(pairs["split"], "train").to_numpy(zero_copy_only=False)
    train, rest = pairs.filter(pa.array(is_train)), pairs.filter(pa.array(~is_train))
    elite = train["is_elite"].to_numpy(zero_copy_only=False).astype(bool)
    marked = not elite.any()
    if marked:
        elite = train["score"].to_numpy() >= ELITE_SCORE
        train = train.set_column(train.schema.get_field_index("is_elite"), "is_elite", pa.array(elite))
    keep = _choose(train, elite, kind, set(new_keys or ()), replay_ratio, seed)
    split = np.where(keep, "train", UNUSED)
    train = train.set_column(train.schema.get_field_index("split"), "split", pa.array(split, pa.string()))
    write_dataset(read_presets(data_dir), pa.concat_tables([train, rest], promote_options="permissive"), out_dir)
    new = sum(1 for k, kept in zip(pair_keys(train), keep) if kept and k in (new_keys or ()))
    return {
        "kind": kind,
        "train_pairs": int(keep.sum()),
        "new": new if kind == "incremental" else None,
        "replayed": int(keep.sum()) - new if kind == "incremental" else None,
        "elite": int((keep & elite).sum()),
        "elite_marked_by_score": marked,
    }
