"""The report's plots (matplotlib, Agg backend): each function writes one PNG and returns its path."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TIER_NAMES = ("A", "B", "C", "D")


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def pred_vs_true(pred, true, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(true, pred, s=6, alpha=0.4)
    ax.plot([0, 5], [0, 5], "k--", lw=1)
    ax.set(xlabel="true score", ylabel="predicted score", xlim=(0, 5), ylim=(0, 5), title="predicted vs true")
    return _save(fig, path)


def calibration(pred, true, path: Path, bins: int = 10) -> Path:
    edges = np.linspace(0, 5, bins + 1)
    idx = np.clip(np.digitize(pred, edges) - 1, 0, bins - 1)
    xs, ys, ns = [], [], []
    for b in range(bins):
        sel = idx == b
        if sel.any():
            xs.append(pred[sel].mean()), ys.append(true[sel].mean()), ns.append(int(sel.sum()))
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 5], [0, 5], "k--", lw=1)
    ax.plot(xs, ys, "o-")
    for x, y, n in zip(xs, ys, ns):
        ax.annotate(str(n), (x, y), fontsize=7, xytext=(3, -9), textcoords="offset points")
    ax.set(xlabel="mean predicted (per bin)", ylabel="mean true", xlim=(0, 5), ylim=(0, 5), title="calibration")
    return _save(fig, path)


def tier_confusion(matrix: np.ndarray, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(matrix, cmap="Blues")
    for i in range(4):
        for j in range(4):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=9)
    ax.set_xticks(range(4), TIER_NAMES)
    ax.set_yticks(range(4), TIER_NAMES)
    ax.set(xlabel="predicted tier", ylabel="true tier", title="tier confusion")
    return _save(fig, path)


def metric_curves(curves: dict[str, list[tuple[float, float]]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, points in sorted(curves.items()):
        if points:
            x, y = zip(*points)
            ax.plot(x, y, marker=".", label=name)
    ax.set(xlabel="epoch", title="metric curves")
    ax.legend(fontsize=7)
    return _save(fig, path)


def golden_pass(
    rate_by_epoch: list[tuple[float, float]], positives: tuple[int, int], negatives: tuple[int, int], threshold: float, path: Path
) -> Path:
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.5))
    if rate_by_epoch:
        x, y = zip(*rate_by_epoch)
        a.plot(x, y, marker="o")
    a.axhline(threshold, color="r", ls="--", lw=1, label=f"gate {threshold:g}")
    a.set(xlabel="epoch", ylabel="pass rate", ylim=(0, 1.02), title="golden pass rate")
    a.legend(fontsize=7)
    b.bar(
        ["positives pass", "positives fail", "negatives pass", "negatives fail"],
        [positives[0], positives[1], negatives[0], negatives[1]],
        color=["g", "r", "g", "r"],
    )
    b.tick_params(axis="x", labelsize=7)
    b.set(title="golden set (this model)")
    return _save(fig, path)


def drift(
    current: np.ndarray,
    reference: np.ndarray | None,
    kl_by_epoch: list[tuple[float, float]],
    path: Path,
    ref_label: str = "reference",
) -> Path:
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.5))
    centers = (np.arange(len(current)) + 0.5) * 5.0 / len(current)
    width = 5.0 / len(current)
    a.bar(centers, current / max(current.sum(), 1), width=width, alpha=0.6, label="this model")
    if reference is not None:
        a.step(
            np.append(centers - width / 2, 5.0),
            np.append(reference, reference[-1]) / max(reference.sum(), 1),
            where="post",
            color="k",
            label=ref_label,
        )
    a.set(xlabel="predicted score", ylabel="share", title="predicted score distribution")
    a.legend(fontsize=7)
    if kl_by_epoch:
        x, y = zip(*kl_by_epoch)
        b.plot(x, y, marker="o")
    b.axhline(0.1, color="r", ls="--", lw=1)
    b.set(xlabel="epoch", ylabel="KL (nats)", title="drift vs reference")
    return _save(fig, path)


def comparison(names: list[str], candidate: list[float], champion: list[float], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(names))
    ax.bar(x - 0.2, candidate, width=0.4, label="candidate")
    ax.bar(x + 0.2, champion, width=0.4, label="champion")
    ax.set_xticks(x, names, fontsize=7, rotation=15)
    ax.set(title="candidate vs champion")
    ax.legend(fontsize=7)
    return _save(fig, path)
