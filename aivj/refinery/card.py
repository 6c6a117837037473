"""DATASET.md: how the default dataset was built, counts, failures, score histogram, S/T distributions."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pyarrow as pa

from aivj.contract.atomic import write_text_atomic
from aivj.refinery import scoring as sc

_TERMS = (
    "v2",
    "exposure",
    "spatial_score",
    "temporal_score",
    "gate",
    "dissimilarity",
    "contrast",
    "coverage",
    "beat_sync",
    "mutual_sync",
    "balance",
    "avg_luma",
    "avg_motion",
    "score",
)


def _dist_table(res: dict) -> list[str]:
    lines = ["| measure | p5 | p25 | p50 | p75 | p95 | at its max | at 0 |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for k in _TERMS:
        v = np.asarray(res[k], dtype=np.float64)
        q = np.percentile(v, [5, 25, 50, 75, 95])
        at_max = float((v >= v.max() - 1e-9).mean())
        lines.append(f"| {k} | " + " | ".join(f"{x:.4g}" for x in q) + f" | {at_max:.1%} | {float((v <= 1e-12).mean()):.1%} |")
    return lines


def _histogram(score: np.ndarray) -> list[str]:
    edges = np.arange(0, 5.5, 0.5)
    counts, _ = np.histogram(score, bins=edges)
    top = max(counts.max(), 1)
    lines = ["| score | pairs | |", "| --- | --- | --- |"]
    for lo, c in zip(edges[:-1], counts):
        lines.append(f"| {lo:.1f}-{lo + 0.5:.1f} | {c} | {'#' * int(round(40 * c / top))} |")
    return lines


def _collection_lines(info: dict, pairs: pa.Table, presets: pa.Table) -> list[str]:
    """Per-collection counts, twin groups, categories and the held-out pairs by collection cell."""
    source = dict(zip(presets["preset_id"].to_pylist(), presets["source"].to_pylist()))
    lines = [
        "| collection | .milk files | distinct | rendered ok | presets in pairs | categories |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    cats = collections.defaultdict(set)
    for src, cat in zip(presets["source"].to_pylist(), presets["category"].to_pylist()):
        cats[src].add(cat)
    used = collections.Counter(source.values())
    for name, c in info.get("collections", {}).items():
        lines.append(
            f"| {name} | {c['files']} | {c['distinct']} | {c['rendered_ok']} | {used[name]} | {len(cats[name] - {None})} |"
        )
    t = info.get("twins", {})
    lines += [
        "",
        f"Twin groups (aivj/refinery/twins.py): {t.get('presets_in_twin_groups')} of {t.get('presets')} rendered presets fall in "
        f"{t.get('twin_groups')} groups of two or more (largest {t.get('largest_group')}); presets with a partner by link: identical static "
        f"features {t.get('static')}, equal canonical text {t.get('text')}, equal renders {t.get('render')}. Held-out presets "
        f"(whole groups, drawn per collection): {info.get('held_out_presets')}; alchemy presets dropped as twins of held-out ones: "
        f"{info.get('alchemy_presets_dropped_as_twins', 0)}.",
        "",
        "Pairs by split and by the collections of their two layers (FG x BG):",
        "",
        "| split | " + " | ".join(sorted(info.get("collections", {}))) + " | mixed |",
        "| --- |" + " --- |" * (len(info.get("collections", {})) + 1),
    ]
    fg = [source.get(i) for i in pairs["fg_id"].to_pylist()]
    bg = [source.get(i) for i in pairs["bg_id"].to_pylist()]
    cell = collections.Counter((sp, f if f == b else "mixed") for sp, f, b in zip(pairs["split"].to_pylist(), fg, bg))
    for sp in ("train", "val", "test_seen", "test_unseen", "golden"):
        lines.append(
            f"| {sp} | " + " | ".join(str(cell[(sp, c)]) for c in sorted(info.get("collections", {})) + ["mixed"]) + " |"
        )
    return lines


def write_card(
    path: Path, info: dict, pairs: pa.Table, presets: pa.Table, res: dict, failures: list[tuple[str, str, str]], command: str
) -> None:
    score = pairs["score"].to_numpy()
    splits = collections.Counter(pairs["split"].to_pylist())
    golden = pairs.filter(pa.compute.equal(pairs["split"], "golden"))
    g = golden["score"].to_numpy()
    by_status = collections.Counter(s for _, s, _ in failures)
    lum_term = np.clip((res["sample_luma"] - sc.LUMA_LO) / sc.LUMA_SPAN, 0, 1)
    mot_term = np.clip((res["sample_motion"] - sc.MOTION_LO) / (sc.MOTION_HI - sc.MOTION_LO), 0, 1)
    s = info
    out = (
        [
            "# data/default: the embedded default dataset (refinery)",
            "",
            "Labels from real projectM renders of the preset collections below plus alchemy pairs; see docs/refinery.md",
            "for the renderer, descriptors and the score formula (score version "
            f"{s['score_version']}). Layout: aivj/contract/layout.py (`presets.parquet`, `pairs/`, `elite.parquet`, `_summary.json`).",
            "Where each collection comes from (Debian's projectm-data, Cream of the Crop): docs/refinery.md.",
            "",
            "## Rebuild",
            "",
            "```",
            "apt-get install -y libprojectm-dev projectm-data   # once",
            command,
            "```",
            "",
            f"Render settings: `{s['render_settings']}` (cache `$AIVJ_HOME/cache/refinery/{s['cache_tag']}`). Build took {s['build_seconds']} s"
            f" with renders cached; the renders themselves took {s['render_worker_seconds']:.0f} worker-seconds"
            f" (about {s['render_worker_seconds'] / 2 / 60:.0f} min of wall time for 2 workers from an empty cache). Scoring ran at {s['pairs_per_second']:.0f} pairs/s.",
            "",
            "## Counts",
            "",
            f"- presets in the table: {s['presets']}; pairs: {s['pairs']}; elite (score >= 4): {s['elite']}",
            f"- alchemy pairs generated: {s['alchemy_pairs_generated']}, kept (both layers render, no held-out twin): {s['alchemy_pairs_kept']}",
            "- splits: " + ", ".join(f"{k} {splits[k]}" for k in ("train", "val", "test_seen", "test_unseen", "golden")),
            f"- golden: {int((g >= 4).sum())} elite (score >= 4) + {int((g <= 2).sum())} clear negatives (score <= 2), among presets held out"
            " from every other split",
            "",
        ]
        + _collection_lines(info, pairs, presets)
        + [
            "",
            "## Failures",
            "",
            f"{len(failures)} presets were left out: "
            + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none")
            + ".",
            "`black` = brightest stored pixel below 10/255 for the whole window; `load_error` = projectM refused the file;",
            "`crash`/`timeout` = the worker died or hung (it is restarted and the run goes on). First few:",
            "",
        ]
    )
    out += [f"- `{Path(p).parent.name}/{Path(p).name}`: {st} {('- ' + r) if r else ''}" for p, st, r in sorted(failures)[:15]]
    out += ["", "## Score histogram (all pairs)", ""] + _histogram(score)
    out += (
        [
            "",
            "## Distributions of the pair measures",
            "",
            f"The user's v2 terms saturate by definition: the luma term is at 1 for {float((lum_term >= 1).mean()):.1%} of samples,",
            f"the motion term for {float((mot_term >= 1).mean()):.1%} (its 6e-4 ceiling is tiny next to real frame deltas).",
            "S and T and the score itself are not saturated:",
            "",
        ]
        + _dist_table(res)
        + [""]
    )
    text = "\n".join(out)
    write_text_atomic(Path(path), text)
