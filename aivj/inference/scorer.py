"""One loaded model and what it may score: ``load_scorer(version | checkpoint | "champion")``.

The object every consumer shares (export, the fast regression tier, and the scoring service, the
daemon, A/B and dual-track tools to come): ``encode_presets`` once per preset, ``score_pairs`` on
the cache, ``score_block`` for every FG against every BG of a pack, ``score_pack`` for a pack folder
on the static path, and ``paths``, whether the model's recorded figures pass each scoring path's gates
(aivj/contract/scoring_paths.py). No Hydra, no Trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aivj.contract.schema import RENDER_DIM
from aivj.contract.scoring_paths import SCORING_PATHS, check_path
from aivj.inference.loading import load_model, recorded_metrics, resolve_model
from aivj.inference.packs import load_features, read_pack

CHAMPION = "champion"


def _floats(a) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def score_presets(
    model,
    static: np.ndarray,
    fg_rows,
    bg_rows,
    render: np.ndarray | None = None,
    has_render: np.ndarray | None = None,
    batch: int = 4096,
) -> np.ndarray:
    """Model scores of pairs (fg row, bg row) of the per-preset arrays; no render = the static path."""
    net = getattr(model, "net", model)
    s = _floats(static)
    if render is None:
        render, has = torch.zeros(len(s), RENDER_DIM), torch.zeros(len(s))
    else:
        render, has = _floats(render), _floats(has_render)
    fg, bg = torch.as_tensor(fg_rows, dtype=torch.long), torch.as_tensor(bg_rows, dtype=torch.long)
    out = []
    with torch.no_grad():
        enc = net.encode_presets(s, render, has) if hasattr(net, "encode_presets") else None
        for i in range(0, len(fg), batch):
            f, b = fg[i : i + batch], bg[i : i + batch]
            if enc is not None:
                score = net.score_pairs(enc, f, b)
                score = score["score"] if isinstance(score, dict) else score
            else:
                score = net(
                    {
                        "fg_static": s[f],
                        "bg_static": s[b],
                        "fg_render": render[f],
                        "bg_render": render[b],
                        "fg_has_render": has[f],
                        "bg_has_render": has[b],
                    }
                )["score"]
            out.append(score.float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


@dataclass
class PackScores:
    pack: str
    pair_ids: list[int]
    scores: np.ndarray  # 0-5, one per usable pair
    missing: int  # preset file references that are missing or unparsable
    set_aside: list[dict] = field(default_factory=list)  # manifest rows the reader set aside


@dataclass
class Scorer:
    model: torch.nn.Module
    label: str  # the version, or the checkpoint path
    metrics: dict | None = None  # its metrics.json figures, when recorded
    metrics_file: Path | None = None

    @property
    def net(self) -> torch.nn.Module:
        return getattr(self.model, "net", self.model)

    @property
    def paths(self) -> dict[str, tuple[bool, str]]:
        """{scoring path: (its recorded figures pass the gates?, one line naming the figure)}."""
        if self.metrics is None:
            return {p: (False, f"{self.label}: no metrics.json recorded") for p in SCORING_PATHS}
        return {p: check_path(self.metrics, p) for p in SCORING_PATHS}

    @torch.no_grad()
    def encode_presets(self, static, render=None, has_render=None) -> torch.Tensor:
        """The per-preset cache ``score_pairs`` reads; without renders the static path's."""
        if not hasattr(self.net, "encode_presets"):
            raise TypeError(f"{self.label}: {type(self.net).__name__} scores whole pairs; use score_presets")
        static = _floats(static)
        if render is None:
            render, has_render = np.zeros((len(static), RENDER_DIM), np.float32), np.zeros(len(static), np.float32)
        return self.net.encode_presets(static, _floats(render), _floats(has_render))

    @torch.no_grad()
    def score_pairs(self, enc: torch.Tensor, fg_idx, bg_idx) -> np.ndarray:
        out = self.net.score_pairs(enc, torch.as_tensor(fg_idx, dtype=torch.long), torch.as_tensor(bg_idx, dtype=torch.long))
        return (out["score"] if isinstance(out, dict) else out).float().cpu().numpy()

    @torch.no_grad()
    def score_block(self, enc: torch.Tensor, fg_idx, bg_idx) -> np.ndarray:
        """Scores [F, B] of every FG preset of ``fg_idx`` against every BG preset of ``bg_idx`` (a pack's candidates)."""
        if not hasattr(self.net, "score_block"):
            raise TypeError(f"{self.label}: {type(self.net).__name__} has no score_block; use score_pairs")
        fg, bg = (torch.as_tensor(i, dtype=torch.long) for i in (fg_idx, bg_idx))
        return self.net.score_block(enc, fg, bg, outputs=("score",))["score"].float().cpu().numpy()

    @property
    def has_coupling(self) -> bool:
        """Whether the net predicts coupling settings (a coupling head: experiment=full_coupling)."""
        return getattr(self.net, "coupling", None) is not None

    @torch.no_grad()
    def coupling_settings(self, enc: torch.Tensor, fg_idx, bg_idx) -> dict[str, np.ndarray]:
        """Per pair: the coupling head's setting in app units (aivj/contract/coupling.py CONTINUOUS names,
        opacities within the budget) and ``phase``, the FG delay in frames."""
        from aivj.contract import coupling as cc

        if not self.has_coupling:
            raise ValueError(f"{self.label}: the model has no coupling head (train one with experiment=full_coupling)")
        fg, bg = (torch.as_tensor(i, dtype=torch.long) for i in (fg_idx, bg_idx))
        out = self.net.score_pairs(enc, fg, bg, outputs=("coupling", "coupling_phase_logits"))
        values = cc.denormalise(out["coupling"].float().cpu().numpy())
        settings = {name: values[:, i] for i, name in enumerate(cc.CONTINUOUS)}
        settings["fg_opacity"], settings["bg_opacity"] = cc.within_budget(settings["fg_opacity"], settings["bg_opacity"])
        settings["phase"] = cc.phase_shift(out["coupling_phase_logits"].argmax(-1).cpu().numpy())
        return settings

    def score_presets(self, static, fg_rows, bg_rows, render=None, has_render=None) -> np.ndarray:
        return score_presets(self.model, static, fg_rows, bg_rows, render, has_render)

    def score_pack(self, pack_dir: Path) -> PackScores:
        """Every usable pair of a pack folder on the static path (renders: aivj.export.pack_export)."""
        pack = read_pack(pack_dir)
        _, static, usable, missing = load_features(Path(pack_dir), pack.pairs)
        scores = self.score_presets(static, [u[1] for u in usable], [u[2] for u in usable])
        return PackScores(pack.pack, [u[0] for u in usable], scores, missing, list(pack.set_aside))


def load_scorer(spec: str | None = CHAMPION, registry_dir=None) -> Scorer:
    """``spec``: a registry version, a checkpoint path, or "champion" (None): the registry's default champion."""
    spec = None if spec in (None, CHAMPION) else str(spec)
    ckpt, _, label = resolve_model(spec, registry_dir)
    model, label = load_model(label, registry_dir)
    metrics, metrics_file = recorded_metrics(ckpt, label, registry_dir)
    return Scorer(model, label, metrics, metrics_file)
