"""The synthetic set's planted answer is recoverable through the real training path."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import open_dict
from scipy.stats import spearmanr

from datamodules.synthetic import SyntheticSpec, generate, planted_terms
from train import train


def test_planted_terms_drive_the_score_and_order_matters():
    spec = SyntheticSpec(n_presets=200, n_pairs=3000, noise_std=0.0, golden_per_side=10)
    presets, pairs = generate(spec)
    feats = np.stack(presets["features"].to_numpy(zero_copy_only=False))
    index = {k: i for i, k in enumerate(presets["preset_id"].to_pylist())}
    fg = feats[[index[k] for k in pairs["fg_id"].to_pylist()]]
    bg = feats[[index[k] for k in pairs["bg_id"].to_pylist()]]
    s, t = planted_terms(fg, bg, spec.seed)
    # Without noise the score is a monotone function of 2 z(s) + 1.5 z(t): ranks agree exactly.
    logit = 2.0 * (s - s.mean()) / s.std() + 1.5 * (t - t.mean()) / t.std()
    assert spearmanr(logit, pairs["score"].to_numpy()).statistic > 0.999
    s_swapped, _ = planted_terms(bg, fg, spec.seed)
    assert not np.allclose(s, s_swapped)


def test_splits_hold_out_unseen_presets_and_golden_pairs():
    presets, pairs = generate(SyntheticSpec(n_presets=300, n_pairs=5000, golden_per_side=20))
    split = np.asarray(pairs["split"].to_pylist())
    ids = np.stack([pairs["fg_id"].to_numpy(zero_copy_only=False), pairs["bg_id"].to_numpy(zero_copy_only=False)], 1)
    unseen = set(ids[split == "test_unseen"].ravel())
    assert unseen and not unseen & set(ids[split == "train"].ravel())
    golden = pairs["score"].to_numpy()[split == "golden"]
    assert len(golden) == 40 and np.all((golden >= 4) | (golden <= 2))


@pytest.mark.slow
def test_training_recovers_the_planted_ranking(tiny_train_cfg):
    with open_dict(tiny_train_cfg):
        tiny_train_cfg.data.generator.update(n_presets=1000, n_pairs=30000, golden_per_side=100)
        tiny_train_cfg.data.regular_per_batch = 124  # larger batches: the same answer in fewer CPU seconds
        tiny_train_cfg.model.net.inputs = "static"
        tiny_train_cfg.model.net.dropout = 0.0
        tiny_train_cfg.model.optimizer.lr = 2e-3
        tiny_train_cfg.trainer.max_epochs = 5
        tiny_train_cfg.callbacks = {}
    metrics = train(tiny_train_cfg)
    assert metrics["test_seen/spearman"] > 0.8
    assert metrics["test_unseen/spearman"] > 0.75  # presets never seen in training
