"""The preference head: a small network on the coupling network's frozen pair embedding, fit to feedback.

The pair embedding is the trunk's output ``h`` (``DualLayerCouplingNetwork._heads``: the pooled FG and
BG attention outputs and their product through the trunk), read with a forward hook while
``Scorer.score_pairs`` runs, so the head sees exactly what the champion's score head sees. The head
predicts how much a viewer likes a pair, as a logit added to the champion's own score: with zero
weights it ranks pairs as the champion does, and feedback moves it from there.

Labels (``labels``): a rating r gives (r - 1) / 4 at full weight; a skip 0 and a dwell d
d / (d + dwell_half_s) at the implicit weights of conf/feedback/default.yaml. ``shown`` alone says nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class LabelRule:
    rate_weight: float = 1.0
    skip_weight: float = 0.5
    dwell_weight: float = 0.5
    dwell_half_s: float = 30.0  # the dwell that reads as "liked as much as not"


def labels(rows: list[dict], rule: LabelRule = LabelRule()) -> dict[tuple[str, str], tuple[float, float]]:
    """Events (store rows or dicts with type, fg, bg, dwell_s, rating) -> {(fg, bg): (target 0-1, weight)}."""
    acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for ev in rows:
        kind = ev["type"]
        if kind == "rate":
            y, w = (ev["rating"] - 1) / 4.0, rule.rate_weight
        elif kind == "skip":
            y, w = 0.0, rule.skip_weight
        elif kind == "dwell":
            y, w = ev["dwell_s"] / (ev["dwell_s"] + rule.dwell_half_s), rule.dwell_weight
        else:
            continue
        a = acc[(ev["fg"], ev["bg"])]
        a[0] += w * y
        a[1] += w
    return {pair: (s / w, w) for pair, (s, w) in acc.items() if w > 0}


@torch.no_grad()
def pair_embeddings(scorer, enc: torch.Tensor, fg_idx, bg_idx) -> tuple[np.ndarray, np.ndarray]:
    """(trunk embedding [P, hidden], champion score 0-5 [P]) of pairs of ``scorer.encode_presets``' cache."""
    seen: list[torch.Tensor] = []
    hook = scorer.net.trunk.register_forward_hook(lambda _m, _i, out: seen.append(out.detach().float().cpu()))
    try:
        scores = scorer.score_pairs(enc, fg_idx, bg_idx)
    finally:
        hook.remove()
    return torch.cat(seen).numpy(), np.asarray(scores, dtype=np.float32)


def _logit(score: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(score, dtype=np.float64) / 5.0, 1e-4, 1 - 1e-4)
    return np.log(p) - np.log1p(-p)


def _rows_normalised(emb: np.ndarray) -> np.ndarray:
    """Each embedding row to zero mean and unit spread: the trunk's scale varies by model, the head's should not."""
    x = np.asarray(emb, dtype=np.float64)
    return (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-6)


class PreferenceHead:
    """logit = gain * logit(champion score / 5) + bias + v . normalised(embedding); numpy, ~hidden + 2 numbers.

    Linear on purpose: per viewer there are tens to hundreds of labelled pairs, and the embedding is
    already the network's nonlinear summary of the pair."""

    def __init__(self, dim: int) -> None:
        self.gain, self.bias, self.v = np.ones(1), np.zeros(1), np.zeros(dim)

    def logits(self, emb: np.ndarray, score: np.ndarray) -> np.ndarray:
        return self.gain[0] * _logit(score) + self.bias[0] + _rows_normalised(emb) @ self.v

    def predict(self, emb: np.ndarray, score: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(emb, score)))

    def get_weights(self) -> list[np.ndarray]:
        return [self.gain.copy(), self.bias.copy(), self.v.copy()]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        shapes = [w.shape for w in self.get_weights()]
        if [np.shape(w) for w in weights] != shapes:
            raise ValueError(f"preference head: weights of shapes {[np.shape(w) for w in weights]}, expected {shapes}")
        self.gain, self.bias, self.v = (np.array(w, dtype=np.float64) for w in weights)


def fit_head(
    head: PreferenceHead,
    emb: np.ndarray,
    score: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray,
    steps: int = 100,
    lr: float = 0.05,
    l2_to: list[np.ndarray] | None = None,
    l2: float = 1e-3,
) -> float:
    """Full-batch Adam on the weighted cross-entropy plus ``l2`` * |weights - l2_to|^2 (``l2_to`` None: to 0;
    a client's personalisation passes the federated head, so thin feedback keeps it near). Returns the last loss."""
    x = np.hstack([_logit(score)[:, None], np.ones((len(target), 1)), _rows_normalised(emb)])
    y, w = np.asarray(target, dtype=np.float64), np.asarray(weight, dtype=np.float64) / np.sum(weight)
    theta = np.concatenate(head.get_weights())
    anchor = np.concatenate(l2_to) if l2_to is not None else np.zeros_like(theta)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    loss = 0.0
    for t in range(1, steps + 1):
        z = x @ theta
        p = 1.0 / (1.0 + np.exp(-z))
        loss = float(w @ (np.logaddexp(0, z) - y * z) + l2 * np.sum((theta - anchor) ** 2))
        grad = x.T @ (w * (p - y)) + 2 * l2 * (theta - anchor)
        m, v = 0.9 * m + 0.1 * grad, 0.999 * v + 0.001 * grad**2
        theta = theta - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    head.set_weights([theta[:1], theta[1:2], theta[2:]])
    return loss


def pairwise_agreement(pred: np.ndarray, target: np.ndarray) -> float:
    """Share of pairs of items with different targets that ``pred`` orders the same way (ties in pred: half)."""
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    dt = np.sign(target[:, None] - target[None, :])
    dp = np.sign(pred[:, None] - pred[None, :])
    mask = dt != 0
    if not mask.any():
        return float("nan")
    return float(((dt * dp)[mask] > 0).mean() + 0.5 * (dp[mask] == 0).mean())
