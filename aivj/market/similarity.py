"""Nearest templates by Euclidean distance on the standardised static feature space (docs/features.md).

A preset is its 64 static features, z-scored with the library's per-feature mean and std (one
standardiser for both layers, so a single preset compares with either layer); a pair is
``[z(FG), z(BG)]`` (128 dims). Up to ``exact_limit`` templates the search is exact (numpy, one
matrix product); beyond, a faiss inverted-file index (``IndexIVFFlat``, ``nprobe`` lists a query)
answers approximately: docs/benchmarks.md has queries/s and recall at 1k, 100k and 1M templates.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from aivj.contract.schema import FEATURE_DIM

CHUNK = 65536  # rows per matrix product: bounds the temporaries at 1M templates
# A request's one query is a matrix-vector product: BLAS threads only contend for it (measured at
# 5,222 templates on a loaded 2-core machine: 15.5 ms a query with the default threads, 0.5 ms with one).
FEW_QUERIES = 4


def _one_blas_thread():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # the market extra brings it; without it searches keep the default threads
        return contextlib.nullcontext()
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_CONTROLLER = None


@dataclass(frozen=True)
class FeatureSpace:
    mean: np.ndarray  # [FEATURE_DIM]
    std: np.ndarray  # [FEATURE_DIM], no zeros

    @classmethod
    def fit(cls, features: np.ndarray) -> FeatureSpace:
        features = np.asarray(features, np.float64).reshape(-1, FEATURE_DIM)
        if not len(features):
            return cls(np.zeros(FEATURE_DIM, np.float32), np.ones(FEATURE_DIM, np.float32))
        std = features.std(axis=0)
        return cls(features.mean(axis=0).astype(np.float32), np.where(std > 1e-9, std, 1.0).astype(np.float32))

    def z(self, features: np.ndarray) -> np.ndarray:
        return ((np.asarray(features, np.float32) - self.mean) / self.std).astype(np.float32)

    def pair(self, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
        return np.concatenate([self.z(fg), self.z(bg)], axis=-1)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, doc: dict) -> FeatureSpace:
        return cls(np.asarray(doc["mean"], np.float32), np.asarray(doc["std"], np.float32))


class ExactIndex:
    """Exact k nearest neighbours: squared distances as |x|^2 - 2 x.q + |q|^2, in chunks of rows."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.norms = np.einsum("ij,ij->i", self.vectors, self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances [m, k'], rows [m, k']) nearest first; k' = min(k, len)."""
        q = np.atleast_2d(np.asarray(queries, np.float32))
        k = min(k, len(self))
        if k <= 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        d2 = np.empty((len(q), len(self)), np.float32)
        with _one_blas_thread() if len(q) <= FEW_QUERIES else contextlib.nullcontext():
            for start in range(0, len(self), CHUNK):
                block = self.vectors[start : start + CHUNK]
                d2[:, start : start + len(block)] = self.norms[start : start + len(block)] - 2.0 * (q @ block.T)
        d2 += np.einsum("ij,ij->i", q, q)[:, None]
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(self) else np.tile(np.arange(len(self)), (len(q), 1))
        taken = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(taken, axis=1, kind="stable")
        rows = np.take_along_axis(part, order, axis=1)
        return np.sqrt(np.maximum(np.take_along_axis(taken, order, axis=1), 0.0)), rows.astype(np.int64)


class FaissIndex:
    """Approximate k nearest neighbours (faiss ``IndexIVFFlat``, sqrt(n) lists, ``nprobe`` visited)."""

    kind = "faiss-ivf"

    def __init__(self, vectors: np.ndarray, nprobe: int = 32, seed: int = 0) -> None:
        try:
            import faiss
        except ImportError:
            raise RuntimeError("more templates than the exact limit need faiss: pip install -e '.[market]'") from None
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        nlist = max(1, int(np.sqrt(n)))
        quantizer = faiss.IndexFlatL2(dim)
        self.index = faiss.IndexIVFFlat(quantizer, dim, nlist)
        self.index.cp.seed = seed
        self.index.train(vectors)
        self.index.add(vectors)
        self.index.nprobe = min(nprobe, nlist)
        self.quantizer = quantizer  # faiss does not own it from Python: keep it alive
        self.n = n

    def __len__(self) -> int:
        return self.n

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.n)
        d2, rows = self.index.search(q, k)
        keep = rows >= 0  # fewer than k found in the visited lists: faiss pads with -1
        width = int(keep.sum(axis=1).min()) if len(q) else 0
        return np.sqrt(np.maximum(d2[:, :width], 0.0)), rows[:, :width].astype(np.int64)


def make_index(vectors: np.ndarray, exact_limit: int, nprobe: int = 32):
    return ExactIndex(vectors) if len(vectors) <= exact_limit else FaissIndex(vectors, nprobe)


class TemplateIndex:
    """Pair and preset queries over templates given by their layers' z-scored features."""

    def __init__(self, fg_z: np.ndarray, bg_z: np.ndarray, exact_limit: int = 50000, nprobe: int = 32) -> None:
        self.fg_z = np.asarray(fg_z, np.float32).reshape(-1, FEATURE_DIM)
        self.bg_z = np.asarray(bg_z, np.float32).reshape(-1, FEATURE_DIM)
        self.exact_limit, self.nprobe = exact_limit, nprobe
        self.pairs = make_index(np.concatenate([self.fg_z, self.bg_z], axis=1), exact_limit, nprobe)
        self._layers = None  # built on the first preset query

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def kind(self) -> str:
        return self.pairs.kind

    def nearest_pair(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        d, rows = self.pairs.search(np.asarray(query, np.float32).reshape(1, -1), k)
        return [(int(r), float(x)) for r, x in zip(rows[0], d[0])]

    def nearest_preset(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Templates whose FG or BG is nearest to one preset (a template's distance: its nearer layer)."""
        if self._layers is None:
            self._layers = (
                make_index(self.fg_z, self.exact_limit, self.nprobe),
                make_index(self.bg_z, self.exact_limit, self.nprobe),
            )
        best: dict[int, float] = {}
        for layer in self._layers:
            d, rows = layer.search(np.asarray(query, np.float32).reshape(1, -1), k)
            for r, x in zip(rows[0], d[0]):
                best[int(r)] = min(best.get(int(r), np.inf), float(x))
        return sorted(best.items(), key=lambda item: (item[1], item[0]))[:k]
