"""Uploads: a pair of .milk files checked, deduplicated, rendered where projectM is, scored, placed.

Checks, in order, each failure one reason naming the layer and the file (``Rejected``):
a bare file name ending in ``.milk`` (no folders), at most ``max_preset_bytes``, no NUL bytes, every
line preset text (blank, ``[section]``, ``// comment``, ``key=value`` with an identifier key or a bare key), no
markup in the values, the parser accepts it, FG and BG differ, the pair is not in the market yet
(by the two content hashes). Then the pair is rendered by the refinery when projectM is installed
(``render: auto``; each preset bounded by ``render_timeout_s``) and a layer that renders black or
fails is refused; without projectM it is scored on the static path. The champion scores it, the
bundle is written in one rename (``Store.add_upload``) and it takes its place in the ranking.
Nothing is written to the store before every step has passed.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from aivj.market.previews import PreviewMaker
from aivj.market.store import FORMAT, MILK_FILES, PREVIEW_FILE, Store, template_id
from aivj.milk.features import extract_features
from aivj.milk.hashing import content_hash, normalise_bytes
from aivj.milk.pairs import style_tags
from aivj.milk.parser import MilkParseError, parse_milk

# "=value" with no key is in 5 of the 13,460 corpus presets; MilkDrop and the parser skip it.
PRESET_LINE = re.compile(r"\s*(\[[^\]\n]*\]|//.*|([A-Za-z_][A-Za-z0-9_]*)?\s*=.*|[A-Za-z_][A-Za-z0-9_]*)\s*")
# Preset values are EEL and HLSL code, which never holds these; a file someone opens in a browser might.
MARKUP = re.compile(r"<\s*(script|iframe|object|embed|html|svg|\?php)|javascript:", re.IGNORECASE)
SIDES = (("fg", "FG"), ("bg", "BG"))


class Rejected(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def check_name(label: str, name: object, max_chars: int) -> str:
    if not isinstance(name, str) or not name:
        raise Rejected(422, f"{label}: a file name is required")
    if len(name) > max_chars:
        raise Rejected(422, f"{label} {name[:40]}...: file name longer than {max_chars} characters")
    if "/" in name or "\\" in name or name.startswith(".") or any(ord(c) < 32 for c in name):
        raise Rejected(422, f"{label} {name!r}: a bare file name only (no folders, no leading dot, no control characters)")
    if not name.lower().endswith(".milk"):
        raise Rejected(422, f"{label} {name}: not a .milk file")
    return name


def check_text(label: str, name: str, text: object, max_bytes: int) -> tuple[bytes, object]:
    """(normalised bytes, parsed preset) or ``Rejected`` with the first problem."""
    if not isinstance(text, str):
        raise Rejected(422, f"{label} {name}: the file's text is required")
    data = normalise_bytes(text)
    if len(data) > max_bytes:
        raise Rejected(413, f"{label} {name}: {len(data)} bytes; a preset may have at most {max_bytes}")
    if b"\x00" in data:
        raise Rejected(422, f"{label} {name}: binary data (NUL bytes), not a .milk preset")
    for number, line in enumerate(data.decode("utf-8").split("\n"), 1):
        if line.strip() and not PRESET_LINE.fullmatch(line):
            raise Rejected(422, f"{label} {name}: line {number} is not preset text: {line.strip()[:60]!r}")
        if MARKUP.search(line):
            raise Rejected(422, f"{label} {name}: line {number} holds markup or a script, not preset code")
    try:
        preset = parse_milk(data, name)
    except MilkParseError as exc:
        raise Rejected(422, f"{label} {exc}") from None
    return data, preset


def _layer(preset, data: bytes, name: str, side: str) -> dict:
    return {
        "id": content_hash(data),
        "name": Path(name).stem,
        "collection": "upload",
        "category": None,
        "source": "upload",
        "style_tags": style_tags(preset),
        "file": MILK_FILES[side],
        "features": [round(float(x), 6) for x in extract_features(preset)],
    }


class Uploader:
    def __init__(self, store: Store, scorer, cfg, frame_root: Path) -> None:
        self.store, self.scorer, self.cfg, self.frame_root = store, scorer, cfg, Path(frame_root)

    def validate(self, body: object) -> dict:
        """{side: (name, bytes, preset)} of a request body ``{"fg": {"name", "text"}, "bg": {...}}``."""
        if not isinstance(body, dict) or not all(isinstance(body.get(s), dict) for s, _ in SIDES):
            raise Rejected(422, 'the body must be {"fg": {"name": ..., "text": ...}, "bg": {"name": ..., "text": ...}}')
        limits = self.cfg.upload
        out = {}
        for side, label in SIDES:
            name = check_name(label, body[side].get("name"), limits.max_name_chars)
            data, preset = check_text(label, name, body[side].get("text"), limits.max_preset_bytes)
            out[side] = (name, data, preset)
        if content_hash(out["fg"][1]) == content_hash(out["bg"][1]):
            raise Rejected(422, f"FG {out['fg'][0]} and BG {out['bg'][0]} are the same preset; a template needs two")
        return out

    def _duplicate(self, tid: str, client: str) -> None:
        known = self.store.by_id.get(tid)
        if known is not None:
            where = f"template {tid}, rank {known['rank']}" if self.store.visible(known, client) else "another client's upload"
            raise Rejected(409, f"this pair is already in the market ({where})")

    def accept(self, client: str, body: object) -> dict:
        layers = self.validate(body)
        records = {side: _layer(preset, data, name, side) for side, (name, data, preset) in layers.items()}
        tid = template_id(records["fg"]["id"], records["bg"]["id"])
        self._duplicate(tid, client)
        static = np.asarray([records["fg"]["features"], records["bg"]["features"]], np.float32)
        rendered = self._render(layers, records) if self._may_render() else None
        files = {MILK_FILES[side]: layers[side][1] for side, _ in SIDES}
        if rendered is not None:
            render, has, refinery = rendered
            path, note = "render", None
            score = float(self.scorer.score_presets(static, [0], [1], render, has)[0])
            image, preview_note = PreviewMaker(self.frame_root).make(records["fg"]["id"], records["bg"]["id"])
        else:
            path, refinery, image = "static", None, None
            preview_note = note = "not rendered: " + self._why_not_rendered()
            score = float(self.scorer.score_presets(static, [0], [1])[0])
        if image is not None:
            files[PREVIEW_FILE] = image
        record = {
            "format": FORMAT,
            "id": tid,
            "kind": "upload",
            "owner": client,
            **records,
            "score": round(score, 6),
            "scoring": {"model": self.scorer.label, "path": path, "note": note},
            "refinery": refinery,
            "coupling": {"spatial": refinery["spatial"], "temporal": refinery["temporal"]} if refinery else None,
            "origin": {"uploaded_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": [layers["fg"][0], layers["bg"][0]]},
            "preview": PREVIEW_FILE if image is not None else None,
            "preview_note": preview_note,
            "text_note": None,
        }  # fmt: skip
        with self.store.lock:
            self._duplicate(tid, client)  # another request may have stored it while this one rendered
            return self.store.add_upload(record, files)

    def _may_render(self) -> bool:
        return self.cfg.upload.render != "never" and not self._missing()

    def _missing(self) -> list[str]:
        from aivj.refinery.native import missing_requirements

        return missing_requirements()

    def _why_not_rendered(self) -> str:
        if self.cfg.upload.render == "never":
            return "rendering is off (upload.render: never); scored on the static path"
        return f"projectM is not installed ({', '.join(self._missing())}); scored on the static path"

    def _render(self, layers: dict, records: dict):
        """(render [2, RENDER_DIM], has [2], refinery measures) or ``Rejected`` for a dead layer."""
        from aivj.export.renders import render_pack
        from aivj.refinery.scoring import score_pairs

        with tempfile.TemporaryDirectory(prefix="aivj-market-upload-") as tmp:
            paths = {}
            for side, (name, data, _) in layers.items():
                path = Path(tmp) / side / name
                path.parent.mkdir()
                path.write_bytes(data)
                paths[records[side]["id"]] = path
            renders = render_pack(paths, workers=1, cache_root=self.frame_root, timeout=float(self.cfg.upload.render_timeout_s), progress=False)  # fmt: skip
        for side, label in SIDES:
            rec = renders.status.get(records[side]["id"], {})
            if rec.get("status") != "ok":
                why = rec.get("reason") or rec.get("status", "no status")
                raise Rejected(422, f"{label} {layers[side][0]}: projectM could not use it ({rec.get('status')}: {why})")
        rows = renders.row()
        take = [rows[records[side]["id"]] for side, _ in SIDES]
        bank = renders.bank.index()
        measured = score_pairs(renders.bank, np.asarray([bank[records["fg"]["id"]]]), np.asarray([bank[records["bg"]["id"]]]))
        refinery = {
            "score": round(float(measured["score"][0]), 6),
            "spatial": round(float(measured["spatial_score"][0]), 6),
            "temporal": round(float(measured["temporal_score"][0]), 6),
        }
        return renders.render[take], renders.has_render[take], refinery
