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


@pytest.mark.parametrize("groups", [1, 3])
def test_every_batch_holds_groups_times_4_elite_and_32_regular_the_last_one_too(groups):
    batches = _epoch(EliteDataPrioritySampler(ELITE, REGULAR, 4, 32, seed=1, groups=groups))
    assert len(batches) == -(-len(REGULAR) // (32 * groups))
    for b in batches:
        assert np.isin(b, ELITE).sum() == 4 * groups and np.isin(b, REGULAR).sum() == 32 * groups


def test_the_last_batch_is_filled_up_from_the_start_of_the_epoch_or_dropped():
    batches = _epoch(EliteDataPrioritySampler(ELITE, REGULAR, 4, 32, seed=1, groups=3))
    regular = [b[np.isin(b, REGULAR)] for b in batches]
    fill = 96 * len(batches) - len(REGULAR)  # 1000 regular pairs, 96 a batch: 11 batches, 56 seen twice
    assert np.array_equal(regular[-1][-fill:], regular[0][:fill])
    assert len(set(np.concatenate(regular).tolist())) == len(REGULAR)
    dropped = _epoch(EliteDataPrioritySampler(ELITE, REGULAR, 4, 32, seed=1, groups=3, drop_last=True))
    assert len(dropped) == len(REGULAR) // 96 and all(len(b) == 3 * 36 for b in dropped)


def test_regular_pairs_are_drawn_without_replacement_and_elite_cyclically():
    sampler = EliteDataPrioritySampler(ELITE, REGULAR, 4, 32, seed=1)
    batches = _epoch(sampler)
    regular = np.concatenate([b[np.isin(b, REGULAR)] for b in batches])
    assert sorted(regular[: len(REGULAR)].tolist()) == REGULAR.tolist()  # the rest fills up the last batch
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


def test_groups_below_one_is_a_clear_error():
    with pytest.raises(ValueError, match="groups must be >= 1"):
        EliteDataPrioritySampler(ELITE, REGULAR, 4, 32, groups=0)


@pytest.mark.parametrize("elite", [ELITE, np.array([], dtype=np.int64)])
def test_elite_per_batch_0_gives_regular_only_batches_of_integer_indices(elite):
    batches = _epoch(EliteDataPrioritySampler(elite, REGULAR, 0, 32, seed=1))
    assert len(batches) == -(-len(REGULAR) // 32)
    assert all(len(b) == 32 and np.isin(b, REGULAR).all() and b.dtype.kind == "i" for b in batches)
