"""CouplingDataModule on a tiny synthetic dataset: batches, golden isolation, pruning, workers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aivj.contract.layout import pairs_dataset
from datamodules.coupling_datamodule import CouplingDataModule
from datamodules.synthetic import ensure_synthetic


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return ensure_synthetic(tmp_path_factory.mktemp("syn"), n_presets=300, n_pairs=5000, golden_per_side=30)


def _dm(data_dir, **kw):
    dm = CouplingDataModule(data_dir=str(data_dir), **kw)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_every_training_batch_of_an_epoch_has_4_elite_and_32_regular(data_dir):
    dm = _dm(data_dir)
    batches = list(dm.train_dataloader())
    assert len(batches) == len(dm.train_sampler)
    for b in batches:  # the last one too: it is filled up from the start of the epoch
        assert int(b["is_elite"].sum()) == 4 and len(b["score"]) == 36
        assert torch.all(b["score"][b["is_elite"]] >= 4.0)
    n_regular = int((~dm.splits["train"].cols["is_elite"]).sum())
    assert sum(int((~b["is_elite"]).sum()) for b in batches) == 32 * len(batches) >= n_regular > 32 * (len(batches) - 1)


def test_golden_pairs_never_reach_training_batches(data_dir):
    dm = _dm(data_dir)
    golden = dm.splits["golden"].cols
    golden_pairs = set(zip(golden["fg_idx"].tolist(), golden["bg_idx"].tolist()))
    assert len(golden_pairs) == 60
    for b in dm.train_dataloader():
        assert not golden_pairs & set(zip(b["fg_idx"].tolist(), b["bg_idx"].tolist()))


def test_batches_join_preset_features_by_id(data_dir):
    dm = _dm(data_dir)
    b = next(iter(dm.val_dataloader()[0]))
    assert torch.equal(b["fg_static"], torch.from_numpy(dm.presets.static[b["fg_idx"].numpy()]))
    assert b["fg_static"].shape[1] == 64 and b["bg_render"].shape[1] == 96
    assert torch.all((b["rank01"] >= 0) & (b["rank01"] <= 1))


def test_partition_pruning_reads_only_the_requested_bins(data_dir):
    dm = _dm(data_dir, min_score_bin=3)
    for split in dm.splits.values():
        assert np.all(split.cols["score"] >= 3.0)
    fragments = list(pairs_dataset(data_dir).get_fragments(filter=__import__("pyarrow.compute").compute.field("score_bin") >= 3))
    assert fragments and all("score_bin=3" in f.path or "score_bin=4" in f.path for f in fragments)


def test_two_workers_yield_the_same_batches_as_one_process(data_dir):
    single = [b["fg_idx"] for b in _dm(data_dir, seed=5).train_dataloader()]
    multi = [b["fg_idx"] for b in _dm(data_dir, seed=5, num_workers=2, persistent_workers=True).train_dataloader()]
    assert len(single) == len(multi)
    assert all(torch.equal(a, b) for a, b in zip(single, multi))
    seen = np.concatenate([m.numpy() for m in multi])
    assert len(seen) == sum(len(x) for x in single)


def test_missing_dataset_is_a_one_line_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no presets.parquet"):
        CouplingDataModule(data_dir=str(tmp_path)).prepare_data()


def test_collection_filters_keep_pairs_of_the_named_collections(data_dir, tmp_path):
    """Cross-corpus runs: train on one collection's pairs, test on another's."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    two = tmp_path / "two"
    shutil.copytree(data_dir, two)
    presets = pq.read_table(two / "presets.parquet")
    source = np.where(np.arange(presets.num_rows) % 3 == 0, "cream", "debian")
    presets = presets.set_column(presets.schema.get_field_index("source"), "source", pa.array(source.tolist(), pa.string()))
    pq.write_table(presets, two / "presets.parquet")
    dm = _dm(two, train_collections=["debian"], test_collections=["cream"])
    full = _dm(two)
    for split, allowed in (("train", "debian"), ("val", "debian"), ("test_unseen", "cream"), ("test_seen", "cream")):
        cols = dm.splits[split].cols
        assert len(cols["score"]) > 0
        assert (source[cols["fg_idx"]] == allowed).all() and (source[cols["bg_idx"]] == allowed).all()
        assert len(cols["score"]) < len(full.splits[split].cols["score"])
    assert len(dm.splits["golden"].cols["score"]) == len(full.splits["golden"].cols["score"])
    with pytest.raises(ValueError, match="no preset comes from collection"):
        _dm(two, train_collections=["nope"])
    # Hydra passes ListConfig; checkpoints keep the hyperparameters and load weights-only
    from omegaconf import ListConfig

    kept = CouplingDataModule(data_dir=str(two), train_collections=ListConfig(["debian"])).hparams["train_collections"]
    assert type(kept) is list and kept == ["debian"]
