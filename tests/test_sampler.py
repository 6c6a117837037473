"""EliteDataPrioritySampler: batch composition, coverage, determinism, DDP disjointness."""

from __future__ import annotations

import numpy as np
import pytest

from datamodules.sampler import EliteDataPrioritySampler

ELITE = np.arange(1000, 1050)
REGULAR = np.arange(0, 1000)


def _epoch(sampler, epoch=0):
    sampler.set_epoch(epoch)
    return [np.asarray(b) for b in sampler]


def test_every_batch_holds_4_elite_and_32_regular_except_a_short_tail():
    batches = _epoch(EliteDataPrioritySampler(ELITE, REGULAR, 4, 32, seed=1))
    assert len(batches) == -(-len(REGULAR) // 32)
    for b in batches[:-1]:
        assert np.isin(b, ELITE).sum() == 4 and np.isin(b, REGULAR).sum() == 32
    assert np.isin(batches[-1], ELITE).sum() == 4 and np.isin(batches[-1], REGULAR).sum() == len(REGULAR) % 32


def test_regular_pairs_are_drawn_without_replacement_and_elite_cyclically():
    sampler = EliteDataPrioritySampler(ELITE, REGULAR, 4, 32, seed=1)
    batches = _epoch(sampler)
    regular = np.concatenate([b[np.isin(b, REGULAR)] for b in batches])
    assert sorted(regular.tolist()) == REGULAR.tolist()
    elite = np.concatenate([b[np.isin(b, ELITE)] for b in batches])
    counts = np.bincount(elite - ELITE[0], minlength=len(ELITE))
    # 32 batches * 4 = 128 elite draws over 50 elite pairs: everybody 2 or 3 times, never 0.
    assert counts.min() >= 2 and counts.max() <= 3
    assert sum(sampler.last_epoch_elite_counts.values()) == len(elite)


def test_deterministic_for_seed_and_epoch_and_reshuffled_across_epochs():
    a = _epoch(EliteDataPrioritySampler(ELITE, REGULAR, seed=3), epoch=2)
    b = _epoch(EliteDataPrioritySampler(ELITE, REGULAR, seed=3), epoch=2)
    c = _epoch(EliteDataPrioritySampler(ELITE, REGULAR, seed=3), epoch=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_ddp_ranks_are_disjoint_and_equal_length():
    ranks = [_epoch(EliteDataPrioritySampler(ELITE, REGULAR, seed=0, rank=r, world_size=2)) for r in range(2)]
    assert len(ranks[0]) == len(ranks[1])
    seen = [set(np.concatenate(r).tolist()) for r in ranks]
    assert not seen[0] & seen[1]


def test_elite_per_batch_without_elite_pairs_is_a_clear_error():
    with pytest.raises(ValueError, match="no elite pairs"):
        EliteDataPrioritySampler(np.array([], dtype=np.int64), REGULAR, 4, 32)
