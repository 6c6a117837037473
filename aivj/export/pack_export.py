"""Score a pack on the chosen path and describe what was done in the ``.meta.json`` sidecar.

Counts reconcile: ``pairs.in == pairs.written + pairs.set_aside`` (set aside: the manifest reader's
rejects, and pairs with a missing or unparsable preset file). With renders the sidecar also says how
far the model's ranking is from the refinery's exact score on the same pairs (pairwise accuracy at
the training metric's 0.25 gap, Spearman), over the pairs without a dead layer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aivj.export.pairs_quality import document
from aivj.inference.packs import load_features, read_pack
from aivj.inference.scorer import score_presets
from aivj.milk.hashing import content_hash

META_FORMAT = "aivj-pairs-quality-meta.v0"


@dataclass
class ScoredPack:
    doc: dict  # the browser's file
    meta: dict  # the sidecar
    pairs: list[dict] = field(default_factory=list)  # per written pair: pair, fg/bg id and path, score, refinery
    renders: object | None = None  # PackRenders when rendered


def agreement(model_scores: np.ndarray, refinery_scores: np.ndarray) -> dict:
    import torch

    from coupling.metrics import PairwiseAccuracy, SpearmanRho

    n = len(model_scores)
    if n < 2:
        return {"pairs": n, "pairwise_acc": None, "spearman": None}
    out = {"pairs": n}
    for name, metric in (("pairwise_acc", PairwiseAccuracy()), ("spearman", SpearmanRho())):
        metric.update(torch.as_tensor(model_scores, dtype=torch.float32), torch.as_tensor(refinery_scores, dtype=torch.float32))
        value = float(metric.compute())
        out[name] = round(value, 6) if np.isfinite(value) else None
    return out


def export_pack(
    pack_dir: Path,
    model,
    path: str,
    score_kind: str = "model",
    workers: int | None = None,
    cache_root: Path | None = None,
    progress: bool = True,
) -> ScoredPack:
    """``path``: 'render' or 'static' (already gated); ``score_kind``: 'model' or 'refinery' (needs render)."""
    pack_dir = Path(pack_dir)
    pack = read_pack(pack_dir)
    set_aside = list(getattr(pack, "set_aside", []) or [])
    rows, static, usable, missing = load_features(pack_dir, pack.pairs)
    if not usable:
        total = len(pack.pairs) + len(set_aside)
        raise ValueError(
            f"{pack.source}: none of its {total} pair(s) is usable ({missing} preset file(s) missing or "
            f"unparsable, {len(set_aside)} manifest row(s) set aside)"
        )
    path_of_row = {r: p for p, r in rows.items()}
    fg_rows, bg_rows = [u[1] for u in usable], [u[2] for u in usable]
    t0 = time.monotonic()
    renders, refinery, dead_pair = None, None, np.zeros(len(usable), dtype=bool)
    render_rows = has_rows = None
    if path == "render":
        from aivj.export.renders import render_pack

        id_of_row = {r: content_hash(p.read_bytes()) for p, r in rows.items()}
        first_path: dict[str, Path] = {}
        for r in sorted(id_of_row):  # one file per content hash: the first one the manifest names
            first_path.setdefault(id_of_row[r], path_of_row[r])
        renders = render_pack(first_path, workers, cache_root, progress=progress)
        by_id = renders.row()
        take = np.asarray([by_id[id_of_row[r]] for r in range(len(static))], dtype=np.int64)
        render_rows, has_rows = renders.render[take], renders.has_render[take]
        from aivj.refinery.scoring import score_pairs

        bank_rows = renders.bank.index()
        fg_b = np.asarray([bank_rows[id_of_row[r]] for r in fg_rows], dtype=np.int64)
        bg_b = np.asarray([bank_rows[id_of_row[r]] for r in bg_rows], dtype=np.int64)
        refinery = score_pairs(renders.bank, fg_b, bg_b)["score"]
        dead = renders.dead
        dead_pair = np.asarray([id_of_row[f] in dead or id_of_row[b] in dead for f, b in zip(fg_rows, bg_rows)], dtype=bool)
    t1 = time.monotonic()
    model_scores = (
        score_presets(model, static, fg_rows, bg_rows, render_rows, has_rows) if model is not None else np.zeros(len(usable))
    )
    model_scores = np.asarray(model_scores, dtype=np.float64)
    if refinery is not None:
        model_scores = np.where(dead_pair, refinery, model_scores)  # the dead-layer rule (module renders.py)
    shipped = refinery if score_kind == "refinery" else model_scores
    doc = document(pack.pack, [u[0] for u in usable], shipped, missing)
    live = ~dead_pair
    written_ids = [u[0] for u in usable]
    pairs_in = len(pack.pairs) + len(set_aside)
    meta = {
        "format": META_FORMAT,
        "pack": pack.pack,
        "manifest": str(pack.source),
        "scoring_path": path,
        "score": score_kind,
        "pairs": {
            "in": pairs_in,
            "written": len(written_ids),
            "set_aside": len(set_aside) + len(pack.pairs) - len(usable),
            "set_aside_by_reason": _reasons(set_aside, len(pack.pairs) - len(usable)),
            "with_dead_layer": int(dead_pair.sum()),
        },
        "missing_files": int(missing),
        "renders": renders.counts if renders is not None else None,
        "dead_presets": sorted(
            f"{renders.status[i].get('path', i)}: {renders.status[i].get('status')}"
            + (f" ({renders.status[i]['reason']})" if renders.status[i].get("reason") else "")
            for i in renders.dead
        )
        if renders is not None
        else [],
        "agreement_with_refinery": agreement(model_scores[live], refinery[live])
        if refinery is not None and model is not None
        else None,
        "seconds": {"render": round(t1 - t0, 2), "score": round(time.monotonic() - t1, 2)},
    }
    per_pair = []
    if path == "render":
        for k, (u, f, b) in enumerate(zip(usable, fg_rows, bg_rows)):
            per_pair.append(
                {
                    "pair": int(u[0]),
                    "fg": path_of_row[f],
                    "bg": path_of_row[b],
                    "fg_id": id_of_row[f],
                    "bg_id": id_of_row[b],
                    "quality01": doc["pairs"][k]["quality01"],
                    "model": float(model_scores[k]),
                    "refinery": float(refinery[k]),
                    "dead": bool(dead_pair[k]),
                }
            )
    return ScoredPack(doc, meta, per_pair, renders)


def _reasons(set_aside: list[dict], missing_pairs: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in set_aside:
        reason = str(row.get("reason", "manifest")) if isinstance(row, dict) else "manifest"
        out[reason] = out.get(reason, 0) + 1
    if missing_pairs:
        out["missing_or_unparsable_file"] = missing_pairs
    return out
