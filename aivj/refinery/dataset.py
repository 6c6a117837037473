"""Build the embedded default dataset (data/default/): preset collections that render + alchemy pairs.

Steps: scan each collection (dedup by content hash across all of them), render each preset once
(cached), group presets into behavioural twin groups, draw held-out groups (unseen, golden) per
collection, generate and render alchemy pairs seeded only from seen presets, score pairs balanced
over the collections, pick golden pairs among golden presets, check that no held-out preset has a
twin on the training side, write with aivj.contract.layout.write_dataset and the card.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from aivj.contract.layout import write_dataset
from aivj.contract.thresholds import ELITE_SCORE, NEGATIVE_SCORE
from aivj.refinery import alchemy, library
from aivj.refinery.cache import OK, FrameCache
from aivj.refinery.card import write_card
from aivj.refinery.native import REPO_ROOT
from aivj.refinery.render import render_presets
from aivj.refinery.scoring import SCORE_VERSION, score_pairs
from aivj.refinery.settings import RenderSettings
from aivj.refinery.splits import (
    GOLDEN,
    SEEN,
    UNSEEN,
    assign_roles,
    balanced_pairs,
    golden_pick,
    twin_leaks,
)
from aivj.refinery.tables import pairs_table
from aivj.refinery.twins import twin_groups

DEFAULT_OUT = REPO_ROOT / "data" / "default"
DEFAULT_COLLECTIONS = (("projectm-data", library.DEBIAN_PRESETS),)
PACK_RANDOM, PACK_GOLDEN, PACK_ALCHEMY = "refinery_presets_v2", "refinery_golden_v2", "refinery_alchemy_v1"
GOLDEN_CANDIDATES = 80  # golden presets' random pairs scored per golden pair wanted


def _splits(n: int, rng: np.random.Generator, val: float, test_seen: float) -> np.ndarray:
    split = np.full(n, "train", dtype=object)
    order = rng.permutation(n)
    n_val, n_ts = int(n * val), int(n * test_seen)
    split[order[:n_val]] = "val"
    split[order[n_val : n_val + n_ts]] = "test_seen"
    return split


def _groups(presets: pa.Table, texts: dict[str, str]) -> tuple[np.ndarray, dict]:
    ids = presets["preset_id"].to_pylist()
    feats = np.asarray(presets["features"].to_pylist(), np.float32)
    renders = np.concatenate(
        [np.asarray(presets[c].to_pylist(), np.float32) for c in ("render_summary", "render_layout", "render_motion")], axis=1
    )
    return twin_groups(feats, [texts.get(i) for i in ids], renders)


def build(
    out_dir: Path = DEFAULT_OUT,
    n_pairs: int = 110_000,
    n_unseen_pairs: int = 6_000,
    n_alchemy: int = 300,
    n_golden: int = 600,
    unseen_fraction: float = 0.1,
    golden_fraction: float = 0.06,
    workers: int | None = None,
    timeout: float = 60.0,
    seed: int = 0,
    settings: RenderSettings | None = None,
    collections: list[tuple[str, Path]] | None = None,
    command: str = "aivj refine build",
    cache_root: Path | None = None,
    ray: str | None = None,
) -> dict:
    t0 = time.time()
    rng = np.random.default_rng(seed)
    settings = settings or RenderSettings()
    cache = FrameCache(settings, cache_root)
    collections = [(name, Path(root).resolve()) for name, root in (collections or DEFAULT_COLLECTIONS)]
    files: dict[str, library.PresetFile] = {}
    scanned = {}
    for name, root in collections:
        found = library.scan([root], name)
        scanned[name] = {"files": sum(1 for p in root.rglob("*") if p.suffix.lower() == ".milk"), "distinct": len(found)}
        for f in found:
            files.setdefault(f.id, f)  # a preset in two collections belongs to the first one named
    status = render_presets(library.jobs(list(files.values())), settings, cache, workers=workers, timeout=timeout, ray=ray)
    ok = [f for f in files.values() if status.get(f.id, {}).get("status") == OK]
    for name in scanned:
        scanned[name]["rendered_ok"] = sum(1 for f in ok if f.source == name)

    bank = library.load_bank(cache, sorted(f.id for f in ok))
    texts: dict[str, str] = {}
    presets, parse_failures = library.preset_table(sorted(ok, key=lambda f: f.id), bank, texts)
    group, twin_stats = _groups(presets, texts)
    ids = np.asarray(presets["preset_id"].to_pylist(), dtype=object)
    source = np.asarray(presets["source"].to_pylist(), dtype=object)
    roles = assign_roles(group, source, rng, unseen_fraction, golden_fraction)

    # Alchemy seeds from seen presets only; its presets are new texts, so they are grouped again below.
    alc_dir = cache.dir.parent / f"alchemy_v{alchemy.ALCHEMY_VERSION}_seed{seed}_n{n_alchemy}_v2"
    manifest = alc_dir / "manifest.jsonl"
    if n_alchemy and not manifest.exists():
        alchemy.generate(sorted(files[i].path for i in ids[roles == SEEN]), alc_dir, n_alchemy, seed=seed)
    alc_pairs = [json.loads(x) for x in manifest.read_text().splitlines()] if n_alchemy else []
    alc_files = library.scan([alc_dir / "fg", alc_dir / "bg"], f"alchemy_v{alchemy.ALCHEMY_VERSION}") if n_alchemy else []
    alc_files = [f for f in alc_files if f.id not in files]
    status.update(render_presets(library.jobs(alc_files), settings, cache, workers=workers, timeout=timeout, ray=ray))
    alc_ok = [f for f in alc_files if status.get(f.id, {}).get("status") == OK]
    if alc_ok:
        bank = library.load_bank(cache, sorted(f.id for f in ok + alc_ok))
        alc_table, alc_failures = library.preset_table(alc_ok, bank, texts)
        parse_failures += alc_failures
        presets = pa.concat_tables([presets, alc_table])
        group, twin_stats = _groups(presets, texts)
        ids = np.asarray(presets["preset_id"].to_pylist(), dtype=object)
        source = np.asarray(presets["source"].to_pylist(), dtype=object)
        roles = np.concatenate([roles, np.full(alc_table.num_rows, SEEN, dtype=object)])
        # an alchemy preset that behaves like a held-out preset would leak it: drop it and group again
        held_groups = set(group[roles != SEEN].tolist())
        drop = np.array([s.startswith("alchemy") and g in held_groups for s, g in zip(source, group)], bool)
        leaky = set(ids[drop].tolist())
        presets, roles = presets.filter(pa.array(~drop)), roles[~drop]
        group, twin_stats = _groups(presets, texts)
        ids = np.asarray(presets["preset_id"].to_pylist(), dtype=object)
        source = np.asarray(presets["source"].to_pylist(), dtype=object)
    else:
        leaky = set()
    index = {p: i for i, p in enumerate(bank.ids)}
    pos = {p: i for i, p in enumerate(ids)}
    corpus = np.asarray([s if not s.startswith("alchemy") else "" for s in source], dtype=object)

    members = lambda role: np.flatnonzero((roles == role) & (corpus != ""))  # noqa: E731
    tables, all_res = [], []

    def add(pack, fg, bg, split):
        res = score_pairs(bank, [index[ids[i]] for i in fg], [index[ids[i]] for i in bg])
        tables.append(
            pairs_table(pack, np.arange(len(fg)), ids[fg].tolist(), ids[bg].tolist(), res, f"refinery:{'+'.join(scanned)}", split)
        )
        all_res.append(res)
        return res

    t_score = time.time()
    sf, sb = balanced_pairs(members(SEEN), corpus, n_pairs, rng)
    uf, ub = balanced_pairs(members(UNSEEN), corpus, n_unseen_pairs, rng)
    fg, bg = np.concatenate([sf, uf]), np.concatenate([sb, ub])
    add(PACK_RANDOM, fg, bg, np.concatenate([_splits(len(sf), rng, 0.06, 0.04), np.full(len(uf), "test_unseen", dtype=object)]))
    n_scored = len(fg)
    gf, gb = balanced_pairs(members(GOLDEN), corpus, GOLDEN_CANDIDATES * n_golden, rng)
    gres = score_pairs(bank, [index[ids[i]] for i in gf], [index[ids[i]] for i in gb])
    n_scored += len(gf)
    keep = golden_pick(gres["score"], n_golden, rng, ELITE_SCORE, NEGATIVE_SCORE)
    add(PACK_GOLDEN, gf[keep], gb[keep], "golden")
    score_seconds = time.time() - t_score

    rows = []
    if alc_pairs:
        alc_by_path = library.ids_by_path([alc_dir / p[k] for p in alc_pairs for k in ("fg", "bg")])
        for p in alc_pairs:
            f, b = alc_by_path.get(str(alc_dir / p["fg"])), alc_by_path.get(str(alc_dir / p["bg"]))
            if f in pos and b in pos and f not in leaky and b not in leaky and roles[pos[f]] == SEEN and roles[pos[b]] == SEEN:
                rows.append((p["pair_id"], pos[f], pos[b]))
    if rows:
        ares = score_pairs(bank, [index[ids[r[1]]] for r in rows], [index[ids[r[2]]] for r in rows])
        asplit = np.where(rng.random(len(rows)) < 0.1, "val", "train").astype(object)
        tables.append(
            pairs_table(
                PACK_ALCHEMY,
                [r[0] for r in rows],
                ids[[r[1] for r in rows]].tolist(),
                ids[[r[2] for r in rows]].tolist(),
                ares,
                f"refinery:alchemy_v{alchemy.ALCHEMY_VERSION}",
                asplit,
            )
        )
        all_res.append(ares)
    pairs = pa.concat_tables(tables)

    rep = {i: ids[g] for i, g in enumerate(group)}  # the group's representative is its smallest index
    presets = presets.set_column(
        presets.schema.get_field_index("twin_group"), "twin_group", pa.array([rep[i] for i in range(len(ids))], pa.string())
    )
    gid = {p: rep[i] for i, p in enumerate(ids)}
    leaks = twin_leaks(
        pairs["split"].to_numpy(zero_copy_only=False),
        [gid[p] for p in pairs["fg_id"].to_pylist()],
        [gid[p] for p in pairs["bg_id"].to_pylist()],
    )
    if any(leaks.values()):
        raise AssertionError(f"held-out pairs touch twins of training presets: {leaks}")
    pair_ids = set(pairs["fg_id"].to_pylist()) | set(pairs["bg_id"].to_pylist())
    presets = presets.filter(pa.array([p in pair_ids for p in presets["preset_id"].to_pylist()]))

    failures = [(s.get("path", k), s["status"], s.get("reason", "")) for k, s in status.items() if s["status"] != OK]
    failures += [(p, "parse_error", r) for p, r in parse_failures]
    merged = {k: np.concatenate([r[k] for r in all_res]) for k in all_res[0]}
    summary = {
        "score_version": SCORE_VERSION,
        "render_settings": json.loads(settings.to_json()),
        "cache_tag": settings.tag(),
        "collections": scanned,
        "twins": twin_stats,
        "held_out_presets": {r: int(((roles == r) & (corpus != "")).sum()) for r in (UNSEEN, GOLDEN)},
        "alchemy_pairs_generated": len(alc_pairs),
        "alchemy_pairs_kept": len(rows),
        "alchemy_presets_dropped_as_twins": len(leaky),
        "failures": len(failures),
        "score_seconds": round(score_seconds, 3),
        "pairs_per_second": round(n_scored / max(score_seconds, 1e-9), 1),
        "build_seconds": round(time.time() - t0, 1),
        "seed": seed,
        "render_worker_seconds": round(sum(float(s.get("seconds", 0.0)) for s in status.values()), 1),
    }
    info = write_dataset(presets, pairs, out_dir, summary)
    write_card(Path(out_dir) / "DATASET.md", info, pairs, presets, merged, failures, command)
    return info
