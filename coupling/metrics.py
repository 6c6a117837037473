"""Ranking metrics for pair scores (torchmetrics): pairwise accuracy, Kendall tau, golden pass rate.

All of them keep every prediction of the epoch (small: a few floats per pair) and compute at epoch
end, so their value does not depend on how the loader batches or orders the pairs.
"""

from __future__ import annotations

import torch
from scipy import stats
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from aivj.contract.thresholds import PASS_THRESHOLD, golden_passes


class _CatMetric(Metric):
    """Stores preds and targets of the whole epoch."""

    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("preds", default=[], dist_reduce_fx="cat")
        self.add_state("target", default=[], dist_reduce_fx="cat")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        self.preds.append(preds.detach().float().flatten())
        self.target.append(target.detach().float().flatten())

    def _arrays(self) -> tuple[torch.Tensor, torch.Tensor]:
        if len(self.preds) == 0:  # a list while collecting, one tensor once a DDP sync has concatenated it
            return torch.zeros(0), torch.zeros(0)
        return dim_zero_cat(self.preds).cpu(), dim_zero_cat(self.target).cpu()


class PairwiseAccuracy(_CatMetric):
    """Share of pairs (i, j) with |y_i - y_j| >= min_gap whose predictions are ordered like the targets.

    Ties in the prediction count one half. Exact over all pairs up to ``max_pairs`` pairs; above
    that a fixed-seed uniform sample of ``max_pairs`` pairs (standard error ~0.0004 at 2M).
    """

    def __init__(self, min_gap: float = 0.25, max_pairs: int = 2_000_000, seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.min_gap, self.max_pairs, self.seed = min_gap, max_pairs, seed

    def compute(self) -> torch.Tensor:
        p, y = self._arrays()
        n = p.numel()
        if n * (n - 1) // 2 <= self.max_pairs:
            i, j = torch.triu_indices(n, n, offset=1)
        else:
            g = torch.Generator().manual_seed(self.seed)
            i = torch.randint(0, n, (self.max_pairs,), generator=g)
            j = torch.randint(0, n, (self.max_pairs,), generator=g)
        dy, dp = y[i] - y[j], p[i] - p[j]
        keep = dy.abs() >= self.min_gap
        if not keep.any():
            return torch.tensor(float("nan"))
        agree = torch.sign(dp[keep]) * torch.sign(dy[keep])  # 1 right, -1 wrong, 0 tied prediction
        return ((agree + 1) / 2).mean()


class KendallTau(_CatMetric):
    """Kendall's tau-b (scipy, O(n log n); torchmetrics' own loops in Python over every sample)."""

    def compute(self) -> torch.Tensor:
        p, y = self._arrays()
        if p.numel() < 2:
            return torch.tensor(float("nan"))
        return torch.tensor(float(stats.kendalltau(p.numpy(), y.numpy()).statistic))


class SpearmanRho(_CatMetric):
    """Spearman's rho with average ranks for ties (scipy)."""

    def compute(self) -> torch.Tensor:
        p, y = self._arrays()
        if p.numel() < 2:
            return torch.tensor(float("nan"))
        return torch.tensor(float(stats.spearmanr(p.numpy(), y.numpy()).statistic))


class GoldenPassRate(Metric):
    """Golden set: an elite positive passes when predicted >= 3.0, a negative (score <= 2) when < 3.0.

    Rows that are neither (not elite, score above 2) are not golden cases and are ignored.
    """

    full_state_update = False

    def __init__(self, threshold: float = PASS_THRESHOLD, **kwargs) -> None:
        super().__init__(**kwargs)
        self.threshold = threshold
        self.add_state("passed", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, score: torch.Tensor, is_elite: torch.Tensor | None = None) -> None:
        passed, judged = golden_passes(preds, score, is_elite, self.threshold)
        self.passed += passed.sum().float()
        self.total += judged.sum().float()

    def compute(self) -> torch.Tensor:
        return self.passed / self.total if self.total > 0 else torch.tensor(float("nan"))
