"""Behavioural twins: presets that are the same preset saved twice, grouped so no split separates them.

Content hashes of the bytes see a re-saved preset (other comments, whitespace, code-line numbering,
name, rating) as new. Three links join two presets into one group (union-find over the links):

- ``static``: identical static feature vectors (the 64 features of docs/features.md);
- ``text``: equal canonical text: keys lower-cased, numbers normalised (``1.000`` = ``1``), code
  lines joined per block in their order with whitespace and ``//`` comments removed, the header
  (``MILKDROP_PRESET_VERSION``, ``PSVERSION*``) and ``fRating`` ignored;
- ``render``: render descriptors equal within ``RENDER_TOLERANCE`` (every value rounded to that
  step), so presets that render the same frames are one behaviour whatever their text says.

Splits assign whole groups (aivj/refinery/dataset.py); tests check no held-out preset has a twin in train.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from aivj.milk.values import as_float

RENDER_TOLERANCE = 1e-3  # descriptors are means of uint8 frames; equal renders agree to ~1e-6
_IGNORED_KEYS = frozenset({"milkdrop_preset_version", "psversion", "psversion_warp", "psversion_comp", "frating"})
_CODE_LINE = re.compile(r"^(.*?)(\d+)$")  # per_frame_12 -> ("per_frame_", 12); warp_3; wave_0_per_point7
_COMMENT = re.compile(r"//[^\n]*")
_SPACE = re.compile(r"\s+")


def _canonical_value(value: str) -> str:
    v = as_float(value, None)
    return repr(float(v)) if v is not None else _SPACE.sub("", value).lower()


def canonical_text(entries: dict[str, str]) -> str:
    """One string per behaviour: what MilkDrop executes, without what it ignores."""
    scalars, code = [], {}
    for key, value in entries.items():
        if key in _IGNORED_KEYS:
            continue
        m = _CODE_LINE.match(key)
        is_code = m and (key.startswith(("per_frame", "per_pixel", "warp_", "comp_")) or "_per_" in key or "_init" in key)
        if is_code:
            code.setdefault(m.group(1), []).append((int(m.group(2)), value))
        else:
            scalars.append(f"{key}={_canonical_value(value)}")
    blocks = []
    for block, lines in sorted(code.items()):
        body = "".join(_SPACE.sub("", _COMMENT.sub("", v.lstrip("`"))).lower() for _, v in sorted(lines))
        if body:
            blocks.append(f"{block}:{body}")
    return "\n".join(sorted(scalars) + blocks)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _link_equal(uf: _UnionFind, keys: list) -> int:
    """Union every run of equal keys (None never links); returns how many presets had a partner."""
    first: dict = {}
    linked = set()
    for i, k in enumerate(keys):
        if k is None:
            continue
        if k in first:
            uf.union(first[k], i)
            linked.update((first[k], i))
        else:
            first[k] = i
    return len(linked)


def _digest(b: bytes) -> str:
    return hashlib.sha1(b).hexdigest()


def twin_groups(
    features: np.ndarray, texts: list[str | None], renders: np.ndarray | None = None, has_render: np.ndarray | None = None
) -> tuple[np.ndarray, dict]:
    """Group id (the smallest member index) per preset, and counts of each kind of link.

    ``features`` [N, F]; ``texts`` canonical texts (None: unknown); ``renders`` [N, R] descriptors
    with ``has_render`` [N] marking rows that were rendered ok (others never link by render).
    """
    n = len(features)
    uf = _UnionFind(n)
    feats = np.ascontiguousarray(features, dtype=np.float32)
    stats = {
        "static": _link_equal(uf, [_digest(row.tobytes()) for row in feats]),
        "text": _link_equal(uf, [_digest(t.encode()) if t else None for t in texts]),
    }
    if renders is not None:
        q = np.round(np.asarray(renders, dtype=np.float64) / RENDER_TOLERANCE).astype(np.int64)
        ok = np.ones(n, bool) if has_render is None else np.asarray(has_render, bool)
        stats["render"] = _link_equal(uf, [_digest(q[i].tobytes()) if ok[i] else None for i in range(n)])
    group = np.array([uf.find(i) for i in range(n)])
    sizes = np.bincount(group, minlength=n)
    stats.update(
        presets=n,
        groups=int((sizes > 0).sum()),
        twin_groups=int((sizes > 1).sum()),
        presets_in_twin_groups=int(sizes[sizes > 1].sum()),
        largest_group=int(sizes.max()) if n else 0,
    )
    return group, stats
