"""``aivj market build``: the library of elite templates from a dataset folder (data/default).

Every elite pair (``elite.parquet``: score >= the elite threshold, both corpora and the alchemy
pairs) becomes a bundle: FG and BG .milk text where a preset folder holds it (data/default stores
features, not text: ``texts.py``), metadata (the champion's score, the refinery's measured score,
S and T, styles and categories of both layers, where the pair came from), and a preview composited
from the frame cache. The library is scored by the champion on the render path when the presets
carry render descriptors and the model passes that path's gate, else on the static path; the ranking
is that score. The whole library replaces the old one in one rename; uploads are left alone.

Counts reconcile: ``elite_pairs == templates``, ``templates == with_text + metadata_only`` and
``templates == with_preview + without_preview``. Where ``aivj refine coupling`` searched the dataset,
each template also carries its pair's best coupling setting (opacities, offset, scale, phase).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from aivj.contract.atomic import atomic_dir, write_json_atomic
from aivj.contract.layout import check_parquet, read_presets
from aivj.contract.schema import FEATURE_DIM, PAIR_ROW_COLUMNS, PAIRS_SCHEMA, RENDER_DIM
from aivj.market.previews import PreviewMaker
from aivj.market.similarity import FeatureSpace
from aivj.market.store import FORMAT, LIBRARY_FORMAT, MILK_FILES, PREVIEW_FILE, template_id, write_bundle
from aivj.market.texts import find_texts

PRESET_COLUMNS = ["preset_id", "features", "name", "collection", "category", "style_tags", "source"]
RENDER_COLUMNS = ["render_summary", "render_layout", "render_motion"]  # the order the model reads them in


def _matrix(column, width: int) -> np.ndarray:
    """A fixed-size list column as float32 [n, width]; nulls as NaN rows."""
    array = column.combine_chunks()
    out = np.asarray(array.values, np.float32).reshape(len(array), width).copy()
    out[~np.asarray(array.is_valid())] = np.nan
    return out


def coupling_settings(dataset: Path) -> dict[tuple[str, int], dict]:
    """(pack, pair) -> the best coupling setting ``aivj refine coupling`` stored (aivj/contract/coupling.py),
    for the elite pairs of a dataset whose pairs table carries those columns; empty when it does not."""
    import pyarrow.compute as pc

    from aivj.contract.coupling import COUPLING_COLUMNS
    from aivj.contract.layout import pairs_dataset

    if not (dataset / "pairs").is_dir():
        return {}
    pairs = pairs_dataset(dataset)
    present = [c for c in COUPLING_COLUMNS if c in pairs.schema.names]
    if not present:
        return {}
    out = {}
    for row in pairs.to_table(columns=["pack", "pair", *present], filter=pc.field("is_elite")).to_pylist():
        setting = {c.removeprefix("coupling_"): row[c] for c in present if row[c] is not None}
        if setting:
            out[(row["pack"], int(row["pair"]))] = setting
    return out


def read_elite(dataset: Path) -> tuple[list[dict], dict, np.ndarray, np.ndarray | None, list[str]]:
    """(elite rows best first, presets by id, static [n, 64], render [n, 96] or None, extra pair columns)."""
    for name in ("elite.parquet", "presets.parquet"):
        if not (dataset / name).is_file():
            raise FileNotFoundError(f"{dataset / name}: missing (a dataset folder in the layout: docs/data-layout.md)")
        check_parquet(dataset / name)
    elite = pq.read_table(dataset / "elite.parquet")
    extra = [c for c in elite.column_names if c not in PAIRS_SCHEMA.names and c not in PAIR_ROW_COLUMNS]
    rows = sorted(elite.to_pylist(), key=lambda r: (-r["score"], r["fg_id"], r["bg_id"]))
    presets = read_presets(dataset, PRESET_COLUMNS + RENDER_COLUMNS)
    ids = presets["preset_id"].to_pylist()
    static = _matrix(presets["features"], FEATURE_DIM)
    render = np.concatenate([_matrix(presets[c], presets.schema.field(c).type.list_size) for c in RENDER_COLUMNS], axis=1)
    info = presets.select(["name", "collection", "category", "style_tags", "source"]).to_pylist()
    by_id = {pid: {"row": i, **info[i]} for i, pid in enumerate(ids)}
    lost = [r for r in rows if r["fg_id"] not in by_id or r["bg_id"] not in by_id]
    if lost:
        raise ValueError(f"{dataset / 'elite.parquet'}: {len(lost)} elite pair(s) name presets missing from presets.parquet")
    return rows, by_id, static, (render if render.shape[1] == RENDER_DIM else None), extra


def score_library(scorer, rows: list[dict], by_id: dict, static: np.ndarray, render: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The champion's scores of the elite pairs and the path they were scored on."""
    fg = [by_id[r["fg_id"]]["row"] for r in rows]
    bg = [by_id[r["bg_id"]]["row"] for r in rows]
    used = sorted(set(fg) | set(bg))
    has = render is not None and not np.isnan(render[used]).any()
    if has and scorer.paths["render"][0]:
        has_render = (~np.isnan(render).any(axis=1)).astype(np.float32)
        return scorer.score_presets(static, fg, bg, np.nan_to_num(render), has_render), "render"
    return scorer.score_presets(static, fg, bg), "static"


def _layer(info: dict, features: np.ndarray, pid: str, file: str | None) -> dict:
    return {
        "id": pid,
        "name": info.get("name") or pid,
        "collection": info.get("collection"),
        "category": info.get("category"),
        "source": info.get("source"),
        "style_tags": list(info.get("style_tags") or []),
        "file": file,
        "features": [round(float(x), 6) for x in features],
    }


def build_library(cfg, scorer, dataset: Path, store_root: Path, frame_root: Path, limit: int | None = None,
                  progress: bool = True) -> dict:  # fmt: skip
    """Write ``store_root/library`` and return its summary (the counts reconcile)."""
    import json

    from rich.progress import track

    t0 = time.monotonic()
    dataset = Path(dataset)
    rows, by_id, static, render, extra = read_elite(dataset)
    settings = coupling_settings(dataset)
    scores, path = score_library(scorer, rows, by_id, static, render)
    order = np.argsort(-scores, kind="stable")
    picked = [int(i) for i in order[: limit if limit is not None else len(order)]]
    wanted = {rows[i][side] for i in picked for side in ("fg_id", "bg_id")}
    texts = find_texts(wanted, list(cfg.preset_folders), progress=progress)
    summary_file = dataset / "_summary.json"
    cache_tag = json.loads(summary_file.read_text()).get("cache_tag") if summary_file.is_file() else None
    previews = PreviewMaker(frame_root, cache_tag, cfg.preview.frame_step, cfg.preview.scale, cfg.preview.quality)
    counts = {
        "elite_pairs": len(rows),
        "templates": 0,
        "with_text": 0,
        "metadata_only": 0,
        "with_preview": 0,
        "without_preview": 0,
        "with_coupling_setting": 0,
    }
    preview_notes: dict[str, int] = {}
    library = store_root / "library"
    with atomic_dir(library, durable=True) as tmp:
        for n in track(picked, description="templates", disable=not progress):
            row = rows[n]
            fg_id, bg_id = row["fg_id"], row["bg_id"]
            tid = template_id(fg_id, bg_id)
            files: dict[str, bytes] = {}
            for side, pid in (("fg", fg_id), ("bg", bg_id)):
                if pid in texts.paths:
                    files[MILK_FILES[side]] = texts.paths[pid].read_bytes()
            has_text = len(files) == 2
            if not has_text:
                files = {}
            image, note = previews.make(fg_id, bg_id)
            if image is not None:
                files[PREVIEW_FILE] = image
            else:
                preview_notes[note] = preview_notes.get(note, 0) + 1
            fg, bg = (
                _layer(by_id[pid], static[by_id[pid]["row"]], pid, MILK_FILES[side] if has_text else None)
                for side, pid in (("fg", fg_id), ("bg", bg_id))
            )
            record = {
                "format": FORMAT,
                "id": tid,
                "kind": "elite",
                "fg": fg,
                "bg": bg,
                "score": round(float(scores[n]), 6),
                "scoring": {"model": scorer.label, "path": path},
                "refinery": {"score": round(float(row["score"]), 6)},
                "coupling": {
                    "spatial": row.get("spatial_score"),
                    "temporal": row.get("temporal_score"),
                    **{c: row.get(c) for c in extra},
                    "setting": settings.get((row["pack"], int(row["pair"]))),
                },
                "origin": {"pack": row["pack"], "pair": int(row["pair"]), "split": row["split"], "source": row["source"]},
                "preview": PREVIEW_FILE if image is not None else None,
                "preview_note": note,
                "text_note": None if has_text else "the .milk text of " + " and ".join(
                    s for s, pid in (("FG", fg_id), ("BG", bg_id)) if pid not in texts.paths
                ) + " is in none of the preset folders",
            }  # fmt: skip
            (tmp / "templates" / tid).mkdir(parents=True)
            write_bundle(tmp / "templates" / tid, record, files)
            counts["templates"] += 1
            counts["with_text" if has_text else "metadata_only"] += 1
            counts["with_preview" if image is not None else "without_preview"] += 1
            counts["with_coupling_setting"] += record["coupling"]["setting"] is not None
        used = sorted({by_id[rows[i][s]]["row"] for i in picked for s in ("fg_id", "bg_id")})
        summary = {
            "format": LIBRARY_FORMAT,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "dataset": str(dataset),
            "model": scorer.label,
            "scoring_path": path,
            "limit": limit,
            "counts": counts,
            "preset_folders": {
                "searched": list(cfg.preset_folders),
                "missing": texts.missing_folders,
                "files_hashed": texts.scanned_files,
            },
            "preview_notes": preview_notes,
            "feature_space": FeatureSpace.fit(static[used]).to_dict(),
            "seconds": round(time.monotonic() - t0, 2),
        }
        write_json_atomic(summary, tmp / "library.json")
    return summary
