"""Which model, which scoring path, and whether that model may ship on it (``aivj.contract.scoring_paths``).

The default model is the registry's default champion: the writable registry's, else the shipped one
in ``models/``. A version's figures are its ``metrics.json``; a checkpoint outside the registry is
judged by the ``metrics.json`` beside it (a registry-style folder) or in its train.py run folder.
Export refuses a path whose figures are missing or below the gates, with one line naming the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aivj.contract.scoring_paths import check_path, path_figures
from aivj.inference.loading import checkpoint_metrics
from aivj.registry.store import VERSION_RE, Registry

RENDER_MODES = ("auto", "always", "never")


class ExportRefused(RuntimeError):
    """Nothing usable can be written: one line saying why (exit 2)."""


@dataclass
class ModelChoice:
    spec: str  # what load_model receives: a version or a checkpoint path
    label: str
    metrics: dict | None
    metrics_file: Path | None


def choose_model(spec: str | None, registry_dir=None) -> ModelChoice:
    reg = Registry(registry_dir)
    if registry_dir is not None:
        reg.check_root()
    if spec is None:
        spec = reg.default_champion()
        if spec is None:
            raise ExportRefused(f"{reg.root}: no champion (and none shipped in {reg.shipped}); pass --model VERSION|CKPT")
    if VERSION_RE.match(spec) and not Path(spec).is_file():
        path = reg.path(spec) / "metrics.json"
        return ModelChoice(spec, spec, reg.metrics(spec), path)
    ckpt = Path(spec)
    if not ckpt.is_file():
        raise ExportRefused(f"{spec}: neither a registry version in {reg.root} nor a checkpoint file")
    return ModelChoice(str(ckpt), str(ckpt), *checkpoint_metrics(ckpt))


def projectm_problem() -> str:
    """Empty when the refinery can render here, else its one-line message (with the install line)."""
    from aivj.refinery.native import RefineryUnavailable, require_projectm

    try:
        require_projectm()
    except RefineryUnavailable as exc:
        return str(exc)
    return ""


def choose_path(mode: str, score: str) -> tuple[str, str]:
    """(scoring path, warning line or '') for ``--render MODE`` and ``--score``."""
    if mode not in RENDER_MODES:
        raise ExportRefused(f"--render {mode}: must be one of {', '.join(RENDER_MODES)}")
    if mode == "never":
        if score == "refinery":
            raise ExportRefused("--score refinery needs renders; it cannot be combined with --render never")
        return "static", ""
    problem = projectm_problem()
    if not problem:
        return "render", ""
    if mode == "always" or score == "refinery":
        raise ExportRefused(f"--render {mode}{' --score refinery' if score == 'refinery' else ''}: {problem}")
    return "static", problem


def gate(choice: ModelChoice, path: str) -> str:
    """The passing line of ``check_path``, or ExportRefused naming the figure and the file."""
    where = choice.metrics_file or "(no metrics.json beside the checkpoint or in its run folder)"
    if choice.metrics is None:
        raise ExportRefused(
            f"{choice.label}: no metrics recorded {where}; export ships only versions with passing {path}-path figures"
        )
    ok, line = check_path(choice.metrics, path)
    if not ok:
        hint = " (train it with static figures, or export with renders: --render auto|always)" if path == "static" else ""
        raise ExportRefused(f"{choice.label} may not ship on the {path} path: {line} in {where}{hint}")
    return line


def figures(choice: ModelChoice, path: str) -> dict:
    return path_figures(choice.metrics or {}, path)


def fallback_warning(choice: ModelChoice, problem: str) -> str:
    acc = figures(choice, "static").get("static/test_unseen/pairwise_acc")
    measured = f"{acc:.3f}" if acc is not None else "not measured"
    return (
        f"aivj export: warning: no renders ({problem.split(';')[0]}); scoring from static features, whose "
        f"measured static/test_unseen/pairwise_acc for {choice.label} is {measured}"
    )
