"""Convert aidata inputs into the presets/pairs layout: discover, check, parse, write.

Every manifest row either becomes a pair or is quarantined with one reason, so
``rows_in == rows_written + rows_quarantined`` holds by construction. Reasons, checked in order:
``invalid manifest line``, ``duplicate pair``, ``same preset file on both layers``, ``missing preset file``, ``no label``,
``non-finite score``, ``score out of range``, ``invalid preset``.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aivj.contract.atomic import atomic_dir
from aivj.contract.layout import LayoutError, check_parquet
from aivj.ingest.labels import read_labels
from aivj.ingest.packs import set_aside_reason
from aivj.ingest.parsed_files import ParsedFiles
from aivj.ingest.readers import read_manifest
from aivj.ingest.sources import RawPair, SourceError, discover
from aivj.ingest.tables import write_output
from aivj.milk.batch import PresetRecord, load_preset_files
from aivj.milk.features import FEATURE_VERSION


class ConvertError(RuntimeError):
    """Nothing could be converted, or --strict met a quarantined row."""


@dataclass
class Result:
    summary: dict
    quarantine: list[dict] = field(default_factory=list)


def _quarantine(row: RawPair, reason: str, detail: str = "") -> dict:
    return {
        "source": row.source_file,
        "pack": row.pack,
        "pair": row.pair,
        "fg": row.fg_ref,
        "bg": row.bg_ref,
        "reason": reason,
        "detail": detail,
    }


def _check_label(row: RawPair, labels: dict) -> str | None:
    """Fill score/quality01 from the label files when the manifest has none; the failure reason."""
    if row.score is None:
        quality = labels.get((row.pack, row.pair))
        if quality is None:
            return "no label"
        row.score, row.quality01 = quality * 5.0, quality
    if not (math.isfinite(row.score) and math.isfinite(row.quality01)):
        return "non-finite score"
    if not (-1e-6 <= row.score <= 5.0 + 1e-6 and -1e-6 <= row.quality01 <= 1.0 + 1e-6):
        return "score out of range"
    row.score, row.quality01 = min(max(row.score, 0.0), 5.0), min(max(row.quality01, 0.0), 1.0)
    return None


def read_rows(manifests: list[Path], sample: int | None) -> tuple[list[RawPair], list[dict]]:
    rows, unreadable = [], []
    for path in manifests:
        try:
            part = read_manifest(path)
        except SourceError as exc:
            unreadable.append(
                {
                    "source": str(path),
                    "pack": path.parent.name,
                    "pair": None,
                    "fg": "",
                    "bg": "",
                    "reason": "unreadable manifest",
                    "detail": str(exc),
                }
            )
            continue
        rows.extend(part[:sample] if sample else part)
    return rows, unreadable


def check_output(out_dir: Path) -> None:
    """Fail before any parsing when the output folder cannot be written (SourceError, one line)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SourceError(f"--output {out_dir}: is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()
    except OSError as exc:
        raise SourceError(f"--output {out_dir}: cannot write there ({exc.strerror or exc})") from None
    if (out_dir / "presets.parquet").exists():  # a re-run reads the old tables: a torn one is named, not a traceback
        try:
            for path in [out_dir / "presets.parquet", *sorted((out_dir / "pairs").rglob("*.parquet"))]:
                check_parquet(path)
        except LayoutError as exc:
            raise SourceError(f"--output {exc}; move the old dataset away or choose another folder") from None


def _write_failed(out_dir: Path, records, quarantine: list[dict], summary: dict) -> Path:
    """A failed run's quarantine and summary: in the output folder, unless it holds a dataset that a
    failed run must not mix with; then in ``DIR.failed/`` (written whole in a temp folder, then swapped)."""
    if not (out_dir / "presets.parquet").exists():
        write_output(out_dir, [], records, quarantine, summary, dataset=False)
        return out_dir
    failed = out_dir.with_name(out_dir.name + ".failed")
    with atomic_dir(failed) as tmp:
        write_output(tmp, [], records, quarantine, summary, dataset=False)
    return failed


def convert(inputs: list[Path], out_dir: Path, sample: int | None = None, strict: bool = False,
            workers: int | None = None, progress: bool = True) -> Result:  # fmt: skip
    manifests, label_files = discover([Path(p) for p in inputs])
    if not manifests:
        raise ConvertError(f"{', '.join(map(str, inputs))}: no manifest.jsonl, pairs-manifest.v0.json or elite manifest found")
    check_output(out_dir)
    rows, quarantine = read_rows(manifests, sample)
    labels = read_labels(label_files)
    seen: set[tuple[str, int]] = set()
    kept: list[RawPair] = []
    for row in rows:
        set_aside = set_aside_reason(row, seen)  # the same rules as every other reader of a pack
        if set_aside:
            quarantine.append(_quarantine(row, set_aside, row.error or ""))
        elif row.fg_path is None or row.bg_path is None:
            missing = row.fg_ref if row.fg_path is None else row.bg_ref
            quarantine.append(_quarantine(row, "missing preset file", missing))
        else:
            reason = _check_label(row, labels)
            if reason:
                quarantine.append(_quarantine(row, reason))
            else:
                kept.append(row)

    out_dir = Path(out_dir)
    registry = ParsedFiles(out_dir, FEATURE_VERSION)
    records, parsed = _load_presets(kept, registry, workers, progress)
    pairs: list[RawPair] = []
    for row in kept:
        bad = [r for r in (records[str(row.fg_path)], records[str(row.bg_path)]) if r.error]
        if bad:
            quarantine.append(_quarantine(row, "invalid preset", bad[0].error))
        else:
            pairs.append(row)

    rows_in = len(rows) + sum(1 for q in quarantine if q["reason"] == "unreadable manifest")
    reasons: dict[str, int] = {}
    for q in quarantine:
        reasons[q["reason"]] = reasons.get(q["reason"], 0) + 1
    summary = {
        "inputs": sorted(str(Path(p).resolve()) for p in inputs),
        "manifests": [str(m) for m in manifests],
        "label_files": [str(p) for p in label_files],
        "rows_in": rows_in,
        "rows_written": len(pairs),
        "rows_quarantined": len(quarantine),
        "quarantine_reasons": dict(sorted(reasons.items())),
        "feature_version": FEATURE_VERSION,
        "presets_parsed": parsed,
        "presets_cached": len(records) - parsed,
    }
    assert summary["rows_in"] == summary["rows_written"] + summary["rows_quarantined"]
    summary["status"] = "ok"
    if strict and quarantine:
        summary["status"] = "failed: --strict and rows were quarantined (dataset not written)"
        where = _write_failed(out_dir, records, quarantine, summary)
        raise ConvertError(
            f"--strict: {len(quarantine)} rows quarantined (first: {quarantine[0]['reason']} in {quarantine[0]['source']}); see {where / '_quarantine.jsonl'}"
        )
    if not pairs:
        summary["status"] = "failed: nothing could be converted (dataset not written)"
        where = _write_failed(out_dir, records, quarantine, summary)
        raise ConvertError(
            f"nothing could be converted: {len(quarantine)} of {rows_in} rows quarantined ({summary['quarantine_reasons']}); see {where / '_quarantine.jsonl'}"
        )
    summary = write_output(out_dir, pairs, records, quarantine, summary)
    registry.save()
    return Result(summary, quarantine)


def _load_presets(
    rows: list[RawPair], registry: ParsedFiles, workers: int | None, progress: bool
) -> tuple[dict[str, PresetRecord], int]:
    """Records for every preset path the rows use; unchanged files come from the registry."""
    from aivj.ingest.tables import cached_records

    paths = sorted({str(p) for row in rows for p in (row.fg_path, row.bg_path)})
    records = cached_records(paths, registry)
    todo = [p for p in paths if p not in records]
    for record in load_preset_files(todo, workers=workers, progress=progress):
        records[record.path] = record
        registry.record(record.path, record.preset_id, record.error)
    return records, len(todo)
