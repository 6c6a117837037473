"""Preset files -> rendered, described rows: scanning (dedup by content hash), the preset bank
cache, and the presets table (static features, style tags, collection, render descriptors).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.progress import Progress

from aivj.contract.schema import PRESETS_SCHEMA
from aivj.milk.audio import frame_envelope, make_audio
from aivj.milk.features import FEATURE_VERSION, extract_features
from aivj.milk.hashing import content_hash
from aivj.milk.pairs import style_tags
from aivj.milk.parser import parse_milk
from aivj.refinery.bank import PresetBank
from aivj.refinery.cache import FrameCache
from aivj.refinery.render import Job
from aivj.refinery.twins import canonical_text

DEBIAN_PRESETS = Path("/usr/share/projectM/presets")


@dataclass(frozen=True)
class PresetFile:
    id: str
    path: str
    name: str
    collection: str
    source: str
    category: str | None = None  # folder theme under the collection root, e.g. "Fractal/Nested Spiral"


CATEGORY_DEPTH = 2  # Cream of the Crop themes are two folders deep: "<theme>/<sub-theme>"


def category_of(path: Path, root: Path) -> str | None:
    """The first ``CATEGORY_DEPTH`` folders of ``path`` under ``root``; None for a file at the root."""
    try:
        parts = path.parent.relative_to(root).parts
    except ValueError:
        return None
    return "/".join(parts[:CATEGORY_DEPTH]) or None


def scan(roots: list[Path | str], source: str) -> list[PresetFile]:
    """Every .milk under ``roots`` (files or folders), one entry per distinct content (first path wins)."""
    files: list[tuple[Path, Path]] = []
    for root in map(Path, roots):
        if root.is_dir():
            files += [(p, root) for p in sorted(root.rglob("*")) if p.suffix.lower() == ".milk" and p.is_file()]
        elif root.exists():
            files.append((root, root.parent))
        else:
            raise FileNotFoundError(f"{root}: no such preset file or folder")
    seen: dict[str, PresetFile] = {}
    for p, root in files:
        h = content_hash(p.read_bytes())
        if h not in seen:
            seen[h] = PresetFile(h, str(p), p.stem, p.parent.name, source, category_of(p, root))
    return list(seen.values())


def ids_by_path(paths) -> dict[str, str]:
    """Content hash of every path (duplicates included, unlike ``scan``); unreadable paths are left out."""
    out = {}
    for p in map(str, paths):
        try:
            out[p] = content_hash(Path(p).read_bytes())
        except OSError:
            continue
    return out


def jobs(files: list[PresetFile]) -> list[Job]:
    return [Job(f.id, f.path) for f in files]


def render_envelope(cache: FrameCache) -> np.ndarray:
    s = cache.settings
    spf = s.samples_per_frame
    env = frame_envelope(make_audio(s.audio, s.total_frames * spf, s.bpm), spf)
    return env[s.black_frames + s.warmup :]


def load_bank(cache: FrameCache, ids: list[str], progress: bool = True) -> PresetBank:
    """Bank rows for ``ids`` (all rendered ok), reduced once and kept in ``cache.dir/bank.npz``."""
    path = cache.dir / "bank.npz"
    have = PresetBank.load(path) if path.exists() else None
    known = set(have.ids) if have else set()
    missing = [i for i in ids if i not in known]
    if missing:
        with Progress(disable=not progress) as bar:
            task = bar.add_task("describe", total=len(missing))

            def frames():
                for i in missing:
                    yield i, cache.load_frames(i)
                    bar.advance(task)

            new = PresetBank.from_frames(
                frames(), render_envelope(cache), cache.settings.sample_frames(), cache.settings.steps_per_beat
            )
        have = PresetBank.concat([have, new]) if have else new
        have.save(path)
    return have.subset(ids)


def preset_table(
    files: list[PresetFile], bank: PresetBank, texts: dict[str, str] | None = None
) -> tuple[pa.Table, list[tuple[str, str]]]:
    """Presets rows for files that parse; returns (table, [(path, reason)] for those that do not).

    ``texts``, when given, receives each parsed preset's canonical text (aivj/refinery/twins.py).
    """
    rows: dict[str, list] = {name: [] for name in PRESETS_SCHEMA.names}
    failures = []
    for f in files:
        try:
            preset = parse_milk(Path(f.path).read_bytes(), f.path)
            feats = extract_features(preset)
            tags = style_tags(preset)
            if texts is not None:
                texts[f.id] = canonical_text(preset.entries())
        except ValueError as exc:
            failures.append((f.path, f"parse: {exc}"))
            continue
        d = bank.descriptors[f.id]
        for k, v in (
            ("preset_id", f.id),
            ("features", np.asarray(feats, np.float32).tolist()),
            ("feature_version", FEATURE_VERSION),
            ("name", f.name),
            ("source", f.source),
            ("collection", f.collection),
            ("style_tags", list(tags)),
            ("category", f.category),
            ("twin_group", None),
            ("render_summary", d["summary"].tolist()),
            ("render_layout", d["layout"].tolist()),
            ("render_motion", d["motion"].tolist()),
        ):
            rows[k].append(v)
    return pa.Table.from_pydict(rows, schema=PRESETS_SCHEMA), failures


def sample_audio_stats(cache: FrameCache, warmup_samples: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Audio RMS and peak over the video frame at each measured browser sample."""
    s = cache.settings
    spf = s.samples_per_frame
    audio = make_audio(s.audio, s.total_frames * spf, s.bpm)
    frames = audio[: s.total_frames * spf].reshape(s.total_frames, spf)[s.black_frames + s.warmup :]
    idx = s.sample_frames()[warmup_samples:]
    return np.sqrt((frames[idx].astype(np.float64) ** 2).mean(axis=1)), np.abs(frames[idx]).max(axis=1)
