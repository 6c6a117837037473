"""``register_run``: add a finished run to the registry and promote it when the rule holds.

Called by train.py after fit/test with the best checkpoint and the run's final metrics. The data
hash is a sha256 over the dataset folder's files (relative path + content, derived ``regression/``
tiers left out); it is the version's data fingerprint: a candidate is compared only with the champion
of its own fingerprint, and moves the default champion only when that one shares its fingerprint or
there is none (a smoke run on synthetic data never displaces a real-data champion; docs/registry.md).
The code version is ``git describe --always --dirty --tags`` of the project, else the package version.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from pathlib import Path

from aivj.registry.rules import PromotionRules, decide_promotion, lookup
from aivj.registry.store import Registry, RegistryError, project_root, read_json

REPORT_FILES = ("report.md", "report.html", "report_plots", "golden_sheet.html")
DEFAULT_MODEL_CLASS = "coupling.module.CouplingLitModule"


def data_hash(data_dir) -> str:
    if not data_dir or not Path(data_dir).exists():
        return "unknown"
    root, h = Path(data_dir), hashlib.sha256()
    derived = root / "regression"  # tiers written into the dataset folder by training itself
    for path in sorted(
        p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".") and not p.is_relative_to(derived)
    ):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:20]


def code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"], cwd=project_root(), capture_output=True, text=True, timeout=10
        )
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from aivj import __version__

    return "pkg:" + __version__


def _plain_metrics(metrics: dict) -> dict:
    out = {}
    for key, value in (metrics or {}).items():
        try:
            value = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError):
            continue
        out[str(key)] = value if math.isfinite(value) else None
    return out


def _config_yaml(cfg) -> str:
    if cfg is None:
        return ""
    if isinstance(cfg, str):
        return cfg
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_yaml(cfg, resolve=True)
    except Exception:  # interpolations that only resolve inside a Hydra run (hydra:runtime...)
        return OmegaConf.to_yaml(cfg, resolve=False)


def _model_class(cfg) -> str:
    try:
        return str(cfg["model"]["_target_"])
    except (KeyError, TypeError, IndexError):
        return DEFAULT_MODEL_CLASS


def _reference_for(run_dir: Path, ckpt_path: Path) -> dict | None:
    """The predicted-score histogram of the checkpoint's epoch, written by DriftMonitor."""
    path = run_dir / "pred_histograms.json"
    if not path.exists():
        return None
    saved = json.loads(path.read_text())
    by_epoch = saved.get("by_epoch") or {}
    if not by_epoch:
        return None
    epoch = None
    try:
        import torch

        epoch = str(torch.load(ckpt_path, map_location="cpu", weights_only=True).get("epoch"))
    except Exception:
        pass
    key = epoch if epoch in by_epoch else max(by_epoch, key=int)
    return {
        "counts": by_epoch[key],
        "bins": saved.get("bins", len(by_epoch[key])),
        "range": saved.get("range", [0, 5]),
        "epoch": int(key),
        "split": saved.get("split", "val"),
    }


def register_run(
    run_dir, ckpt_path, cfg, metrics, data_dir, auto_promote: bool = True, registry_dir=None, rules: PromotionRules | None = None
) -> tuple[str, bool, str]:
    """Add the run as a candidate version; promote it when ``auto_promote`` and the rule hold.

    Returns (version, promoted, reason). A run's report (report.md/html and plots) is copied along.
    """
    run_dir, ckpt_path = Path(run_dir), Path(ckpt_path)
    rules = rules or PromotionRules()
    reg = Registry(registry_dir)
    metrics = _plain_metrics(metrics)
    reference = _reference_for(run_dir, ckpt_path)
    files = {"metrics.json": json.dumps(metrics, indent=2, sort_keys=True) + "\n", "config.yaml": _config_yaml(cfg)}
    if reference is not None:
        files["reference_hist.json"] = json.dumps(reference, indent=2) + "\n"
    fingerprint = data_hash(data_dir)
    meta = {
        "run_dir": str(run_dir),
        "data_dir": str(data_dir) if data_dir else None,
        "data_hash": fingerprint,
        "data_fingerprint": fingerprint,
        "code_version": code_version(),
        "model_class": _model_class(cfg),
        "source_checkpoint": str(ckpt_path),
        "val_metric": lookup(metrics, rules.val_metric),
        "golden_pass_rate": lookup(metrics, rules.golden_metric),
    }
    copies = {f"report/{name}": run_dir / name for name in REPORT_FILES if (run_dir / name).exists()}
    version = reg.add_version(ckpt_path, files, meta, copies)
    champion = reg.champion_for(fingerprint)
    promote, reason = decide_promotion(metrics, reg.metrics(champion) if champion else None, rules)
    if champion is None:
        reason += f" (first champion of data fingerprint {fingerprint})"
    if promote and auto_promote:
        reg.set_champion(version, reason, default=moves_default(reg, fingerprint))
        return version, True, reason
    return version, False, reason if not promote else f"rule holds ({reason}) but auto_promote is off"


def moves_default(reg: Registry, fingerprint: str) -> bool:
    """A promotion moves the default champion only within its data fingerprint, or when there is none."""
    current = reg.default_champion()
    return current is None or reg.fingerprint(current) == fingerprint


def register_run_folder(
    run_dir, registry_dir=None, data_dir=None, auto_promote: bool = True, rules: PromotionRules | None = None
) -> tuple[str, bool, str]:
    """Register a finished train.py run folder (metrics.json + best checkpoint + .hydra/config.yaml).

    For runs made with ``registry.enabled=false`` (sweep trials, results runs) that turn out worth keeping.
    """
    from omegaconf import OmegaConf

    run_dir = Path(run_dir)
    saved_path = run_dir / "metrics.json"
    if not saved_path.exists():
        raise RegistryError(f"{run_dir}: no metrics.json (not a finished train.py run folder)")
    saved = read_json(saved_path, "run metrics")
    ckpt = saved.get("best_checkpoint")
    if not ckpt or not Path(ckpt).exists():
        raise RegistryError(f"{saved_path}: best_checkpoint {ckpt!r} does not exist")
    config_path = run_dir / ".hydra" / "config.yaml"
    cfg = OmegaConf.to_container(OmegaConf.load(config_path), resolve=False) if config_path.exists() else {}
    return register_run(
        run_dir, ckpt, cfg, saved["metrics"], data_dir, auto_promote=auto_promote, registry_dir=registry_dir, rules=rules
    )
