"""The live-weights hook of the training data (data.live_weights): biases regular sampling, never blocks."""

from __future__ import annotations

import numpy as np
import pytest

from aivj.contract.layout import pairs_dataset
from aivj.stream.reader import LiveWeights
from datamodules.coupling_datamodule import CouplingDataModule
from datamodules.sampler import EliteDataPrioritySampler
from datamodules.synthetic import ensure_synthetic
from tests.servers import free_port


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return ensure_synthetic(tmp_path_factory.mktemp("syn"), n_presets=300, n_pairs=4000, golden_per_side=30)


def _regular_draws(dm) -> np.ndarray:
    batches = [np.asarray(b) for b in dm.train_sampler]
    regular = ~dm.splits["train"].cols["is_elite"]
    draws = np.concatenate(batches)
    return draws[regular[draws]]


def _dm(data_dir, live_weights=None):
    dm = CouplingDataModule(data_dir=str(data_dir), seed=5, live_weights=live_weights)
    dm.setup("fit")
    dm.train_dataloader()
    return dm


class Favour:
    """Weight 100 for the first 20 regular pairs it is asked about, 1 for the rest; remembers the question."""

    def __call__(self, packs, pairs):
        self.asked = (packs, pairs)
        w = np.ones(len(pairs))
        w[:20] = 100.0
        return w


def test_live_weights_bias_the_regular_draws_toward_heavy_pairs(data_dir):
    favour = Favour()
    dm = _dm(data_dir, favour)
    train = dm.splits["train"]
    regular_rows = np.flatnonzero(~train.cols["is_elite"])
    draws = _regular_draws(dm)  # the sampler asks at the start of each epoch
    packs, pairs = favour.asked
    assert len(pairs) == len(regular_rows) and len(set(zip(packs.tolist(), pairs.tolist()))) == len(pairs)
    table = pairs_dataset(data_dir).to_table(columns=["pack", "pair", "split"]).to_pylist()
    train_keys = {(r["pack"], r["pair"]) for r in table if r["split"] == "train"}
    assert set(zip(packs.tolist(), pairs.tolist())) <= train_keys
    heavy = np.isin(draws, regular_rows[:20]).mean()
    assert heavy > 0.2  # 20 of ~3,800 pairs: 0.5 % of draws when uniform, 2000 / 5780 = 35 % weighted
    assert dm.train_sampler.last_epoch_weighted
    for b in dm.train_sampler:  # the batch shape and the elite ratio stay what they were
        assert len(b) == 36 and train.cols["is_elite"][np.asarray(b)].sum() == 4


def test_no_live_weights_means_the_uniform_epoch_unchanged(data_dir):
    plain = _regular_draws(_dm(data_dir))
    down = _dm(data_dir, LiveWeights(f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.05))
    assert np.array_equal(_regular_draws(down), plain) and not down.train_sampler.last_epoch_weighted


@pytest.mark.parametrize("bad", [np.ones(3), -np.ones(100), np.full(100, np.nan)])
def test_bad_weights_are_a_one_line_error(bad):
    sampler = EliteDataPrioritySampler(np.arange(100, 110), np.arange(100), regular_weights=lambda: bad)
    with pytest.raises(ValueError, match="regular_weights"):
        next(iter(sampler))


def test_the_config_flag_hands_the_reader_to_the_datamodule(tmp_path):
    from aivj.configs import compose_train
    from aivj.training import build  # what train.py instantiates the data with

    cfg = compose_train(["data=synthetic", "+data/live_weights=redis", "data.live_weights.socket_timeout_s=0.1"], tmp_path)
    dm = build(cfg.data)
    assert isinstance(dm.live_weights, LiveWeights) and dm.live_weights.timeout == 0.1
    assert "live_weights" not in dm.hparams  # a live client is no hyperparameter a checkpoint keeps
    assert build(compose_train(["data=synthetic"], tmp_path).data).live_weights is None
