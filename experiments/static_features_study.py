"""How much do the simulated ``sim_*`` features add to the 64 static ones? (docs/features.md, "sim_*")

Reads data/default (presets table, pairs) and the Debian preset files (``--presets``), and, with
``--cream``, the Cream of the Crop renders in the frame cache ($AIVJ_HOME/cache/refinery, read-only) for a larger per-preset
study. Prints (a) per-preset R^2 of render-summary targets under grouped CV (groups = presets with
identical 64-dim static vectors), (b) pairwise accuracy (|dscore| >= 0.25, ties count one half) of
gradient-boosted trees on FG+BG vectors on twin-free ``test_unseen`` pairs, plus a two-stage row.

    .venv/bin/python experiments/static_features_study.py [--cream] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import GroupKFold

from aivj.milk.features import extract_features
from aivj.milk.hashing import content_hash
from aivj.milk.parser import parse_milk
from aivj.milk.simulate import SIM_DIM, SIM_FEATURE_NAMES, simulate_features
from aivj.refinery.cache import default_root
from aivj.refinery.descriptors import SUMMARY_NAMES

TARGETS = ("mean_luma", "motion", "vitality", "colourfulness")


def _featurise(path: Path) -> tuple[str, np.ndarray, np.ndarray] | None:
    data = path.read_bytes()
    try:
        preset = parse_milk(data, str(path))
    except ValueError:
        return None
    return content_hash(data), extract_features(preset), simulate_features(preset)


def featurise(paths: list[Path], jobs: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if jobs > 1:
        from multiprocessing import Pool

        with Pool(jobs) as pool:
            rows = pool.map(_featurise, paths, chunksize=32)
    else:
        rows = list(map(_featurise, paths))
    return {r[0]: (r[1], r[2]) for r in rows if r is not None}


def cream_summaries(root: Path) -> dict[str, tuple[Path, np.ndarray]]:
    """preset id -> (file, render summary) for Cream presets rendered ok so far (read-only)."""
    from aivj.milk.audio import frame_envelope, make_audio
    from aivj.refinery.descriptors import describe
    from aivj.refinery.settings import RenderSettings

    out = {}
    for cache in sorted(root.glob("techno-128px-*")):
        s = RenderSettings.from_json((cache / "settings.json").read_text())
        spf = s.samples_per_frame
        env = frame_envelope(make_audio(s.audio, s.total_frames * spf, s.bpm), spf)[s.black_frames + s.warmup :]
        for line in (cache / "status.jsonl").read_text().splitlines():
            row = json.loads(line)
            npz = cache / "frames" / row["id"][:2] / f"{row['id']}.npz"
            if row.get("status") != "ok" or "/cream/" not in row.get("path", "") or not npz.exists():
                continue
            with np.load(npz) as z:
                out[row["id"]] = (Path(row["path"]), describe(z["frames"], env, s.steps_per_beat)["summary"])
    return out


def twin_groups(static: np.ndarray) -> np.ndarray:
    _, group = np.unique(np.round(static, 6), axis=0, return_inverse=True)
    return group.ravel()


def r2(y: np.ndarray, p: np.ndarray) -> float:
    return float(1 - ((y - p) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-12))


def per_preset_r2(X: np.ndarray, Y: np.ndarray, groups: np.ndarray) -> list[float]:
    out = []
    for t in TARGETS:
        y, pred = Y[:, SUMMARY_NAMES.index(t)], np.zeros(len(Y))
        for tr, te in GroupKFold(5).split(X, y, groups):
            pred[te] = HistGradientBoostingRegressor(max_iter=300, random_state=0).fit(X[tr], y[tr]).predict(X[te])
        out.append(r2(y, pred))
    return out


def pairwise_accuracy(pred: np.ndarray, y: np.ndarray, min_gap: float = 0.25) -> float:
    i, j = np.triu_indices(len(y), 1)
    dy, dp = y[i] - y[j], pred[i] - pred[j]
    keep = np.abs(dy) >= min_gap
    return float(((np.sign(dp[keep]) * np.sign(dy[keep]) + 1) / 2).mean())


def pair_model(vec: dict[str, np.ndarray], train, tests: list, seed: int = 0) -> list[float]:
    def xs(rows):
        return np.hstack([np.stack([vec[i] for i in rows["fg_id"]]), np.stack([vec[i] for i in rows["bg_id"]])])

    model = HistGradientBoostingRegressor(max_iter=300, max_leaf_nodes=63, random_state=seed)
    model.fit(xs(train), train["score"].to_numpy())
    return [pairwise_accuracy(model.predict(xs(t)), t["score"].to_numpy()) for t in tests]


STAGE_TARGETS = ("mean_luma", "motion", "vitality", "spatial_std_luma", "colourfulness", "black_fraction")


def predicted_summary(vec: dict[str, np.ndarray], summary: dict[str, np.ndarray], fit_ids: list[str]) -> dict[str, np.ndarray]:
    """Stage one: render-summary values per preset, out-of-fold for ``fit_ids``, full-fit for the rest."""
    X = np.stack([vec[i] for i in fit_ids])
    Y = np.stack([summary[i][[SUMMARY_NAMES.index(t) for t in STAGE_TARGETS]] for i in fit_ids])
    groups = twin_groups(np.stack([vec[i][:64] for i in fit_ids]))
    fitted = set(fit_ids)
    rest = [i for i in vec if i not in fitted]
    out = {i: np.zeros(len(STAGE_TARGETS)) for i in vec}
    Xr = np.stack([vec[i] for i in rest])
    for k in range(len(STAGE_TARGETS)):
        for tr, te in GroupKFold(5).split(X, Y, groups):
            model = HistGradientBoostingRegressor(max_iter=150, random_state=0).fit(X[tr], Y[tr, k])
            for row, v in zip(te, model.predict(X[te])):
                out[fit_ids[row]][k] = v
        for i, v in zip(rest, HistGradientBoostingRegressor(max_iter=150, random_state=0).fit(X, Y[:, k]).predict(Xr)):
            out[i][k] = v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/default")
    ap.add_argument("--presets", default="/usr/share/projectM/presets")
    ap.add_argument("--cream", action="store_true", help="add Cream renders from the frame cache to study (a)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", default="build/static_study/features.npz")
    ap.add_argument(
        "--part",
        choices=("all", "r2", "static", "sim", "two-stage"),
        default="all",
        help="one table part per process (the parts run in parallel on a shared machine)",
    )
    args = ap.parse_args()

    table = pq.read_table(Path(args.data) / "presets.parquet", columns=["preset_id", "features", "render_summary"]).to_pylist()
    cache = Path(args.cache)
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        feats = {i: (s, m) for i, s, m in zip(z["ids"], z["static"], z["sim"]) if m.shape[0] == SIM_DIM}
    else:
        feats = featurise(sorted(Path(args.presets).rglob("*.milk")), args.jobs)
        cream = cream_summaries(default_root()) if args.cream else {}
        feats |= {k: v for k, v in featurise([p for p, _ in cream.values()], args.jobs).items()}
        cache.parent.mkdir(parents=True, exist_ok=True)
        ids = sorted(feats)
        np.savez(cache, ids=np.array(ids), static=np.stack([feats[i][0] for i in ids]), sim=np.stack([feats[i][1] for i in ids]),
                 cream_ids=np.array(sorted(cream)), cream_summary=np.stack([cream[i][1] for i in sorted(cream)]) if cream else np.zeros((0, 16)))  # fmt: skip
        z = np.load(cache)
    summary = {r["preset_id"]: np.asarray(r["render_summary"]) for r in table if r["render_summary"] is not None}
    summary |= {i: s for i, s in zip(z["cream_ids"], z["cream_summary"])}
    static = {r["preset_id"]: np.asarray(r["features"], dtype=np.float32) for r in table}
    print(f"presets in table {len(table)}, on disk with sim features {sum(i in feats for i in static)}, rendered {len(summary)}")
    fail = np.mean([feats[i][1][SIM_FEATURE_NAMES.index("sim_failed")] for i in feats])
    print(f"sim_failed share over {len(feats)} featurised files: {fail:.3f}")

    # (a) per-preset R^2, grouped by static twins
    ids = [i for i in summary if i in feats]
    part = args.part
    S = np.stack([feats[i][0] for i in ids])
    M = np.stack([feats[i][1] for i in ids])
    Y = np.stack([summary[i] for i in ids])
    groups = twin_groups(S)
    if part in ("all", "r2"):
        print(f"\n(a) per-preset R^2, 5-fold GroupKFold over {len(ids)} rendered presets ({groups.max() + 1} twin groups)")
        print("| inputs | " + " | ".join(TARGETS) + " |")
        for name, X in (("64 static", S), (f"{SIM_DIM} sim", M), (f"64 static + {SIM_DIM} sim", np.hstack([S, M]))):
            print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in per_preset_r2(X, Y, groups)) + " |", flush=True)
    if part == "r2":
        return

    # (b) pairs
    pairs = (
        pads.dataset(Path(args.data) / "pairs", partitioning="hive")
        .to_table(columns=["fg_id", "bg_id", "score", "split"])
        .to_pandas()
    )
    pairs = pairs[pairs.fg_id.isin(feats.keys()) & pairs.bg_id.isin(feats.keys())]
    train = pairs[pairs.split == "train"]
    train_ids = set(train.fg_id) | set(train.bg_id)
    train_keys = {static[i].tobytes() for i in train_ids}
    twin = {i: static[i].tobytes() in train_keys for i in static}
    unseen = pairs[pairs.split == "test_unseen"]
    free = unseen[~unseen.fg_id.map(twin) & ~unseen.bg_id.map(twin)]
    print(f"\n(b) pairs (both presets on disk): train {len(train)}, test_unseen {len(unseen)}, twin-free {len(free)}")
    vec_static = {i: feats[i][0] for i in feats}
    vec_both = {i: np.concatenate(feats[i]) for i in feats}
    rows = [("64 static", vec_static)] if part in ("all", "static") else []
    rows += [(f"64 static + {SIM_DIM} sim", vec_both)] if part in ("all", "sim") else []

    if part in ("all", "two-stage"):
        # test presets (unseen, golden) are never fitted on; the others get out-of-fold predictions
        test_ids = (set(unseen.fg_id) | set(unseen.bg_id) | set(pairs[pairs.split == "golden"].fg_id)) & feats.keys()
        pred = predicted_summary(vec_both, summary, [i for i in ids if i not in test_ids])
        rows.append(
            (
                f"two-stage: static + sim + predicted {', '.join(STAGE_TARGETS)}",
                {i: np.concatenate([vec_both[i], pred[i]]) for i in feats},
            )
        )
    print("| inputs per preset | all unseen | twin-free unseen |")
    for name, vec in rows:
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in pair_model(vec, train, [unseen, free])) + " |", flush=True)


if __name__ == "__main__":
    main()
