"""The batch keys are named once (aivj/contract/batch.py): every producer of batches yields exactly them."""

from __future__ import annotations

import numpy as np
import torch

from aivj.contract.batch import BATCH_KEYS, HAS_RENDER_KEYS, MODEL_INPUTS, path_batch
from aivj.contract.schema import FEATURE_DIM, RENDER_DIM
from datamodules.pairs import PairSplit, PresetTable, load_splits
from datamodules.synthetic import ensure_synthetic
from tests.helpers.fake_batches import fake_batch
from tests.helpers.tiny_module import random_batch


def test_the_datamodules_batches_carry_exactly_the_contracts_keys(tmp_path):
    data_dir = ensure_synthetic(tmp_path / "syn", n_presets=120, n_pairs=600, golden_per_side=10)
    split: PairSplit = load_splits(data_dir, PresetTable.load(data_dir), ["train"])["train"]
    batch = split.__getitems__([0, 1, 2])
    assert sorted(batch) == sorted(BATCH_KEYS)
    assert batch["fg_static"].shape == (3, FEATURE_DIM) and batch["bg_render"].shape == (3, RENDER_DIM)


def test_the_test_doubles_follow_the_contract():
    assert sorted(fake_batch(4)) == sorted(BATCH_KEYS)
    doubles = random_batch(4, seed=0)
    assert set(MODEL_INPUTS) <= set(doubles) <= set(BATCH_KEYS)


def test_the_static_path_zeroes_has_render_on_numpy_and_torch_alike():
    for ones in (np.ones(3, np.float32), torch.ones(3)):
        batch = {"fg_has_render": ones, "bg_has_render": ones, "score": ones}
        static = path_batch(batch, "static")
        assert all(float(static[k].sum()) == 0.0 for k in HAS_RENDER_KEYS)
        assert static["score"] is ones and type(static["fg_has_render"]) is type(ones)
        assert path_batch(batch, "render") is batch
