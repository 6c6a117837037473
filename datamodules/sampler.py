"""EliteDataPrioritySampler (EDPS): every training batch holds a fixed number of elite pairs.

Elite pairs are few (hundreds against ~100k); sampled uniformly they would appear in
about one batch in ten, and the model would learn the bulk of mediocre pairs. EDPS puts
``groups x elite_per_batch`` of them into *every* batch (cycled, reshuffled on each pass
through the elite pool) beside ``groups x regular_per_batch`` regular pairs drawn without
replacement across the epoch: a batch is ``groups`` times the plan's 4 + 32, and the ratio is
exact in every batch. The epoch length is set by the regular pool; the last batch is filled up
with regular pairs from the start of the epoch's order (``drop_last=True`` drops it instead).

Deterministic for (seed, epoch); under DDP each rank takes a disjoint shard of both
pools, so no regular pair is seen by two ranks in an epoch.

``regular_weights`` (optional, e.g. the streaming reweighter's live weights) is called at the start of
every epoch and answers one weight per regular pair (in ``regular_indices`` order) or None; with weights,
that epoch's regular pairs are drawn with replacement in proportion to them (the batch shape and the
elite ratio are unchanged), with None the epoch is the uniform one above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from torch.utils.data import Sampler


class EliteDataPrioritySampler(Sampler[list[int]]):
    def __init__(
        self,
        elite_indices: np.ndarray,
        regular_indices: np.ndarray,
        elite_per_batch: int = 4,
        regular_per_batch: int = 32,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        groups: int = 1,
        regular_weights: Callable[[], np.ndarray | None] | None = None,
    ) -> None:
        if regular_per_batch < 1 or groups < 1:
            raise ValueError(f"regular_per_batch and groups must be >= 1, got {regular_per_batch} and {groups}")
        if elite_per_batch > 0 and len(elite_indices) == 0:
            raise ValueError("elite_per_batch > 0 but the training split holds no elite pairs")
        # Shard by position so ranks are disjoint and every rank gets the same batch count.
        self.elite = np.asarray(elite_indices, dtype=np.int64)[rank::world_size]
        regular = np.asarray(regular_indices, dtype=np.int64)
        per_rank = len(regular) // world_size if world_size > 1 else len(regular)
        self.regular = regular[rank::world_size][:per_rank]
        self._shard = lambda a: np.asarray(a, dtype=np.float64)[rank::world_size][:per_rank]
        self.regular_weights, self.n_regular_in = regular_weights, len(regular)
        self.last_epoch_weighted = False
        if len(self.regular) == 0:
            raise ValueError("the training split holds no regular (non-elite) pairs")
        self.groups = int(groups)
        self.elite_per_batch = groups * elite_per_batch if len(self.elite) else 0
        self.regular_per_batch = groups * regular_per_batch
        self.seed, self.rank, self.drop_last = seed, rank, drop_last
        self.epoch = 0
        self.last_epoch_elite_counts: dict[int, int] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.regular)
        return max(n // self.regular_per_batch, 1) if self.drop_last else -(-n // self.regular_per_batch)

    def _epoch_weights(self) -> np.ndarray | None:
        weights = self.regular_weights() if self.regular_weights is not None else None
        if weights is None:
            return None
        if len(weights) != self.n_regular_in:
            raise ValueError(f"regular_weights: {len(weights)} weights for {self.n_regular_in} regular pairs")
        weights = self._shard(weights)
        if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
            raise ValueError("regular_weights: weights must be finite, >= 0 and not all 0")
        return weights

    def _elite_stream(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if count == 0:  # elite_per_batch=0, or a split with no elite pairs: regular pairs only
            return np.empty(0, dtype=np.asarray(self.regular).dtype)
        passes = -(-count // max(len(self.elite), 1))
        return np.concatenate([rng.permutation(self.elite) for _ in range(passes)])[:count]

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch, self.rank])
        order = rng.permutation(self.regular)
        n_batches = len(self)
        # Cycle the epoch's order so the last batch is full: the ratio stays exact in every batch.
        regular = np.resize(order, n_batches * self.regular_per_batch)
        weights = self._epoch_weights()
        self.last_epoch_weighted = weights is not None
        if weights is not None:
            regular = rng.choice(self.regular, size=len(regular), replace=True, p=weights / weights.sum())
        elite = self._elite_stream(rng, n_batches * self.elite_per_batch)
        counts: dict[int, int] = {}
        for b in range(n_batches):
            e = elite[b * self.elite_per_batch : (b + 1) * self.elite_per_batch]
            r = regular[b * self.regular_per_batch : (b + 1) * self.regular_per_batch]
            for i in e.tolist():
                counts[i] = counts.get(i, 0) + 1
            self.last_epoch_elite_counts = counts
            yield np.concatenate([e, r]).tolist()
