"""Held-out presets by twin group, pair sampling balanced over collections, and the leak check.

Every preset gets one role through its twin group (aivj/refinery/twins.py): ``seen`` presets make the
train / val / test_seen pairs, ``unseen`` presets only pair with each other (test_unseen) and
``golden`` presets only make golden pairs. Roles are drawn per collection so each collection
contributes about the same share of held-out presets, and the cross-corpus rows of docs/results.md
can test on one collection's unseen pairs.
"""

from __future__ import annotations

import numpy as np

SEEN, UNSEEN, GOLDEN = "seen", "unseen", "golden"
HELD_OUT_SPLITS = ("test_unseen", "golden")


def assign_roles(
    groups: np.ndarray,
    collections: np.ndarray,
    rng: np.random.Generator,
    unseen: float,
    golden: float,
    forced_seen: np.ndarray | None = None,
) -> np.ndarray:
    """Role per preset; whole twin groups only. A group's collection is that of its first member;
    groups with a ``forced_seen`` member (e.g. presets alchemy may seed from) stay seen."""
    roles = np.full(len(groups), SEEN, dtype=object)
    ids, first = np.unique(groups, return_index=True)
    sizes = np.bincount(np.searchsorted(ids, groups), minlength=len(ids))
    blocked = np.zeros(len(ids), bool)
    if forced_seen is not None:
        blocked[np.unique(np.searchsorted(ids, groups[np.asarray(forced_seen, bool)]))] = True
    for coll in sorted(set(collections[first].tolist())):
        mine = np.flatnonzero((collections[first] == coll) & ~blocked)
        total = sizes[np.flatnonzero(collections[first] == coll)].sum()
        order = mine[rng.permutation(len(mine))]
        filled = np.cumsum(sizes[order])
        n_unseen = int(np.searchsorted(filled, unseen * total))
        n_golden = int(np.searchsorted(filled, (unseen + golden) * total))
        for role, chosen in ((UNSEEN, order[:n_unseen]), (GOLDEN, order[n_unseen:n_golden])):
            roles[np.isin(groups, ids[chosen])] = role
    return roles


def random_pairs(a: np.ndarray, b: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` distinct ordered pairs (fg from ``a``, bg from ``b``, fg != bg)."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0 or len(b) == 0 or n <= 0:
        return a[:0], b[:0]
    n = min(n, len(a) * len(b) - len(np.intersect1d(a, b)))
    codes = np.unique(rng.integers(0, len(a) * len(b), size=int(n * 1.3) + 100))
    fg, bg = a[codes // len(b)], b[codes % len(b)]
    keep = fg != bg
    pick = rng.permutation(int(keep.sum()))[:n]
    return fg[keep][pick], bg[keep][pick]


def balanced_pairs(
    members: np.ndarray, collections: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs among ``members`` (preset indices): an equal share for every ordered pair of
    collections, so the largest collection does not drown the others."""
    names = sorted(set(collections[members].tolist()))
    cells = [(x, y) for x in names for y in names]
    fgs, bgs = [], []
    for k, (x, y) in enumerate(cells):
        share = n // len(cells) + (1 if k < n % len(cells) else 0)
        f, b = random_pairs(members[collections[members] == x], members[collections[members] == y], share, rng)
        fgs.append(f)
        bgs.append(b)
    return np.concatenate(fgs), np.concatenate(bgs)


def golden_pick(score: np.ndarray, n: int, rng: np.random.Generator, elite: float, negative: float) -> np.ndarray:
    """Indices of up to ``n`` elite (>= elite) and as many clear negatives (<= negative)."""
    order = rng.permutation(len(score))
    pos = order[score[order] >= elite][:n]
    neg = order[score[order] <= negative][: len(pos)]
    return np.sort(np.concatenate([pos, neg]))


def twin_leaks(pair_split: np.ndarray, fg_group: np.ndarray, bg_group: np.ndarray) -> dict[str, int]:
    """How many held-out pairs (test_unseen, golden) touch a twin group that a training-side pair uses.

    Training side = train, val, test_seen (val picks checkpoints; test_seen shares train's presets).
    """
    pair_split = np.asarray(pair_split, dtype=object)
    held = np.isin(pair_split, HELD_OUT_SPLITS)
    trained = set(np.asarray(fg_group)[~held].tolist()) | set(np.asarray(bg_group)[~held].tolist())
    out = {}
    for split in HELD_OUT_SPLITS:
        m = pair_split == split
        touch = np.array([f in trained or b in trained for f, b in zip(np.asarray(fg_group)[m], np.asarray(bg_group)[m])], bool)
        out[split] = int(touch.sum())
    golden_groups = set(np.asarray(fg_group)[pair_split == "golden"].tolist()) | set(
        np.asarray(bg_group)[pair_split == "golden"].tolist()
    )
    unseen_groups = set(np.asarray(fg_group)[pair_split == "test_unseen"].tolist()) | set(
        np.asarray(bg_group)[pair_split == "test_unseen"].tolist()
    )
    out["golden_and_unseen_shared_groups"] = len(golden_groups & unseen_groups)
    return out
