"""Build the embedded default dataset (data/default/): Debian presets that render + alchemy pairs.

Steps: scan and dedup /usr/share/projectM/presets, render each once (cached), generate and render
alchemy pairs from presets that rendered, reduce frames into the preset bank, score random pairs
and alchemy pairs, assign splits (test_unseen presets never appear in any other split; golden =
elite + clear negatives held out), write with datamodules.layout.write_dataset and the card.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from aivj.refinery import alchemy, library
from aivj.refinery.cache import OK, FrameCache
from aivj.refinery.card import write_card
from aivj.refinery.native import REPO_ROOT
from aivj.refinery.render import render_presets
from aivj.refinery.scoring import SCORE_VERSION, score_pairs
from aivj.refinery.settings import RenderSettings
from aivj.refinery.tables import pairs_table
from datamodules.layout import write_dataset
from datamodules.schema import ELITE_SCORE, NEGATIVE_SCORE

import pyarrow as pa

DEFAULT_OUT = REPO_ROOT / "data" / "default"
PACK_DEBIAN, PACK_ALCHEMY = "refinery_debian_v1", "refinery_alchemy_v1"


def _random_pairs(n_ids: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct ordered pairs (fg != bg) of indices < n_ids."""
    n = min(n, n_ids * (n_ids - 1))
    codes = np.unique(rng.integers(0, n_ids * n_ids, size=int(n * 1.3) + 100))
    fg, bg = codes // n_ids, codes % n_ids
    keep = fg != bg
    fg, bg = fg[keep], bg[keep]
    pick = rng.permutation(len(fg))[:n]
    return fg[pick], bg[pick]


def _splits(score: np.ndarray, rng: np.random.Generator, n_golden: int, val: float, test_seen: float) -> np.ndarray:
    split = np.full(len(score), "train", dtype=object)
    order = rng.permutation(len(score))
    elite = order[score[order] >= ELITE_SCORE][:n_golden]
    neg = order[score[order] <= NEGATIVE_SCORE][: len(elite)]
    split[elite], split[neg] = "golden", "golden"
    rest = order[split[order] == "train"]
    n_val, n_ts = int(len(rest) * val), int(len(rest) * test_seen)
    split[rest[:n_val]] = "val"
    split[rest[n_val : n_val + n_ts]] = "test_seen"
    return split


def _check_unseen(pairs: pa.Table, unseen: set[str]) -> None:
    split = pairs["split"].to_pylist()
    for f, b, sp in zip(pairs["fg_id"].to_pylist(), pairs["bg_id"].to_pylist(), split):
        if sp != "test_unseen" and (f in unseen or b in unseen):
            raise AssertionError(f"unseen preset {f if f in unseen else b} occurs in a {sp} pair")


def build(out_dir: Path = DEFAULT_OUT, n_pairs: int = 110_000, n_unseen_pairs: int = 5_000, n_alchemy: int = 300,
          n_golden: int = 600, unseen_fraction: float = 0.1, workers: int | None = None, timeout: float = 60.0,
          seed: int = 0, settings: RenderSettings | None = None, preset_roots: list[Path] | None = None,
          command: str = "aivj refine build") -> dict:
    t0 = time.time()
    rng = np.random.default_rng(seed)
    settings = settings or RenderSettings()
    cache = FrameCache(settings)
    debian = library.scan(preset_roots or [library.DEBIAN_PRESETS], "projectm-data")
    status = render_presets(library.jobs(debian), settings, cache, workers=workers, timeout=timeout)
    ok_debian = [f for f in debian if status.get(f.id, {}).get("status") == OK]
    # Unseen presets are chosen first so that alchemy never seeds from them either.
    ok_ids = sorted(f.id for f in ok_debian)
    perm = rng.permutation(len(ok_ids))
    unseen_set = {ok_ids[i] for i in perm[: int(len(ok_ids) * unseen_fraction)]}

    alc_dir = cache.dir.parent / f"alchemy_v{alchemy.ALCHEMY_VERSION}_seed{seed}_n{n_alchemy}"
    manifest = alc_dir / "manifest.jsonl"
    if n_alchemy and not manifest.exists():
        alchemy.generate([f.path for f in ok_debian if f.id not in unseen_set], alc_dir, n_alchemy, seed=seed)
    alc_pairs = [json.loads(x) for x in manifest.read_text().splitlines()] if n_alchemy else []
    alc_files = library.scan([alc_dir / "fg", alc_dir / "bg"], f"alchemy_v{alchemy.ALCHEMY_VERSION}") if n_alchemy else []
    status.update(render_presets(library.jobs(alc_files), settings, cache, workers=workers, timeout=timeout))

    files = {f.id: f for f in ok_debian}
    files.update({f.id: f for f in alc_files if status.get(f.id, {}).get("status") == OK and f.id not in files})
    bank = library.load_bank(cache, sorted(files))
    presets, parse_failures = library.preset_table([files[i] for i in sorted(files)], bank)
    usable = set(presets["preset_id"].to_pylist())
    deb_ids = sorted(f.id for f in ok_debian if f.id in usable)
    index = bank.index()

    # Debian random pairs: unseen presets only ever pair with each other (test_unseen).
    unseen = [i for i in deb_ids if i in unseen_set]
    seen = [i for i in deb_ids if i not in unseen_set]
    tables = []
    sf, sb = _random_pairs(len(seen), n_pairs, rng)
    uf, ub = _random_pairs(len(unseen), n_unseen_pairs, rng)
    fg_ids = [seen[i] for i in sf] + [unseen[i] for i in uf]
    bg_ids = [seen[i] for i in sb] + [unseen[i] for i in ub]
    t_score = time.time()
    res = score_pairs(bank, [index[i] for i in fg_ids], [index[i] for i in bg_ids])
    score_seconds = time.time() - t_score
    split = np.concatenate([_splits(res["score"][: len(sf)], rng, n_golden, 0.06, 0.04), np.full(len(uf), "test_unseen", dtype=object)])
    tables.append(pairs_table(PACK_DEBIAN, np.arange(len(fg_ids)), fg_ids, bg_ids, res, "refinery:projectm-data", split))
    all_res = [res]

    # Alchemy pairs whose both layers rendered (their presets are new: train/val only).
    alc_by_path = library.ids_by_path([alc_dir / p[k] for p in alc_pairs for k in ("fg", "bg")])
    rows = [(p["pair_id"], alc_by_path.get(str(alc_dir / p["fg"])), alc_by_path.get(str(alc_dir / p["bg"]))) for p in alc_pairs]
    rows = [r for r in rows if r[1] in usable and r[2] in usable]
    if rows:
        ares = score_pairs(bank, [index[r[1]] for r in rows], [index[r[2]] for r in rows])
        asplit = np.where(rng.random(len(rows)) < 0.1, "val", "train").astype(object)
        tables.append(pairs_table(PACK_ALCHEMY, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], ares,
                                  f"refinery:alchemy_v{alchemy.ALCHEMY_VERSION}", asplit))
        all_res.append(ares)
    pairs = pa.concat_tables(tables)
    _check_unseen(pairs, unseen_set)
    pair_ids = set(pairs["fg_id"].to_pylist()) | set(pairs["bg_id"].to_pylist())
    presets = presets.filter(pa.array([p in pair_ids for p in presets["preset_id"].to_pylist()]))

    failures = [(s.get("path", k), s["status"], s.get("reason", "")) for k, s in status.items() if s["status"] != OK]
    failures += [(p, "parse_error", r) for p, r in parse_failures]
    merged = {k: np.concatenate([r[k] for r in all_res]) for k in all_res[0]}
    summary = {"score_version": SCORE_VERSION, "render_settings": json.loads(settings.to_json()), "cache_tag": settings.tag(),
               "debian_files": sum(1 for _ in library.DEBIAN_PRESETS.rglob("*.milk")) if not preset_roots else None,
               "debian_distinct": len(debian), "debian_rendered_ok": len(ok_debian), "alchemy_pairs_generated": len(alc_pairs),
               "alchemy_pairs_kept": len(rows), "failures": len(failures), "unseen_presets": len(unseen),
               "score_seconds": round(score_seconds, 3), "pairs_per_second": round(len(fg_ids) / max(score_seconds, 1e-9), 1),
               "build_seconds": round(time.time() - t0, 1), "seed": seed,
               "render_worker_seconds": round(sum(float(s.get("seconds", 0.0)) for s in status.values()), 1)}
    info = write_dataset(presets, pairs, out_dir, summary)
    write_card(Path(out_dir) / "DATASET.md", info, pairs, merged, failures, command)
    return info
