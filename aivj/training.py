"""Glue shared by train.py and eval.py: build components from config, gather and save metrics."""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from aivj.configs import register_resolvers
from aivj.contract.atomic import write_json_atomic
from aivj.contract.trusted import TRUSTED_TARGETS

log = logging.getLogger("aivj")
register_resolvers()  # before Hydra composes: configs read ${threshold:...}


def build(cfg: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` restricted to ``TRUSTED_TARGETS``."""
    return hydra.utils.instantiate(cfg, _execution_whitelist_=TRUSTED_TARGETS, **kwargs)


def apply_extras(cfg: DictConfig) -> None:
    extras = cfg.get("extras") or {}
    if extras.get("torch_threads"):
        import torch

        torch.set_num_threads(int(extras.torch_threads))
    if extras.get("ignore_warnings"):
        warnings.filterwarnings("ignore")
    if extras.get("print_config"):
        from rich.console import Console
        from rich.syntax import Syntax

        Console(stderr=True).print(Syntax(OmegaConf.to_yaml(cfg, resolve=False), "yaml", theme="ansi_dark"))


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every entry of a named group (callbacks, loggers); ``null`` entries switch one off."""
    if not group:
        return []
    return [build(c) for c in group.values() if isinstance(c, DictConfig) and "_target_" in c]


def scalar_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        v = float(v.item() if hasattr(v, "item") else v)
        out[k] = v if math.isfinite(v) else None
    return dict(sorted(out.items()))


def save_metrics(run_dir: Path, metrics: dict[str, float], **extra: Any) -> Path:
    path = Path(run_dir) / "metrics.json"
    write_json_atomic({"metrics": metrics, **extra}, path)
    return path


def log_hparams_view(loggers: list[Any], cfg: DictConfig, metrics: dict[str, float], model: Any = None) -> None:
    """One hparams session per run, written once the final metrics exist (TensorBoard's HPARAMS tab)."""
    flat = _flatten(OmegaConf.to_container(cfg.model, resolve=True), "model")
    if hasattr(model, "hparams_flat"):
        flat.update({f"model/{k}": v for k, v in model.hparams_flat().items()})
    flat.update(_flatten(OmegaConf.to_container(cfg.data, resolve=True), "data"))
    flat.update({"seed": cfg.get("seed"), "max_epochs": cfg.trainer.get("max_epochs")})
    params = {k: v for k, v in flat.items() if isinstance(v, (int, float, str, bool))}
    finite = {f"hparams/{k}": v for k, v in metrics.items() if v is not None}
    for lg in loggers:
        lg.log_hyperparams(params, finite) if _is_tensorboard(lg) else lg.log_hyperparams(params)
        lg.finalize("success")  # the trainer already finalized its loggers: flush what came after


def _is_tensorboard(lg: Any) -> bool:
    return type(lg).__name__ == "TensorBoardLogger"


def _flatten(d: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}/{k}"))
    return out


def collect_predictions(model: Any, datamodule: Any, splits: list[str]) -> dict[str, Any]:
    """Predicted and true scores per split, for the quality report (eval mode, no grad)."""
    import numpy as np
    import torch

    pred, true, names, fg, bg = [], [], [], [], []
    if datamodule.presets is None:  # fit ran in spawned or forked DDP processes: this one never set up the data
        datamodule.setup("test")
    ids = datamodule.presets.ids.to_numpy(zero_copy_only=False)  # preset ids: the report's contact sheet finds frames by id
    model.eval()
    with torch.no_grad():
        for split in splits:
            for batch in datamodule.eval_loader(split):
                pred.append(model(batch)["score"].float().cpu().numpy())
                true.append(batch["score"].numpy())
                fg.append(ids[batch["fg_idx"].numpy()])
                bg.append(ids[batch["bg_idx"].numpy()])
                names += [split] * len(batch["score"])
    return {
        "pred": np.concatenate(pred),
        "score": np.concatenate(true),
        "split": np.asarray(names, dtype=object),
        "fg_id": np.concatenate(fg),
        "bg_id": np.concatenate(bg),
    }


def report_and_register(cfg: DictConfig, model: Any, datamodule: Any, metrics: dict[str, float], best_ckpt: str) -> None:
    """Quality report into the run folder, then the run as a registry candidate (promoted if the rule holds)."""
    from aivj.registry import register_run
    from aivj.registry.api import data_hash
    from aivj.registry.rules import PromotionRules
    from aivj.registry.store import Registry
    from aivj.report import write_report

    run_dir = Path(cfg.paths.output_dir)
    registry = Registry(cfg.paths.registry_dir)
    champion = registry.champion_for(data_hash(datamodule.data_dir))  # the one this run competes with, shipped included
    champion_metrics = registry.metrics(champion) if champion else None
    predictions = collect_predictions(model, datamodule, list(dict.fromkeys(datamodule.test_split_names)))
    write_report(run_dir, predictions, metrics, champion_metrics)
    version, promoted, reason = register_run(
        run_dir,
        best_ckpt,
        OmegaConf.to_container(cfg, resolve=True),
        metrics,
        data_dir=str(datamodule.data_dir),
        auto_promote=cfg.registry.auto_promote,
        registry_dir=cfg.paths.registry_dir,
        rules=PromotionRules.from_config(cfg.registry),
    )
    log.info(f"registry: {version} {'promoted to champion' if promoted else 'kept as candidate'} ({reason})")


def warm_start(model: Any, ckpt_path: str) -> None:
    """Load only the weights of ``ckpt_path`` (read without running code) into ``model``; one line when they do not fit."""
    from aivj.inference.checkpoint import read_checkpoint

    state = read_checkpoint(ckpt_path)["state_dict"]
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"init_from={ckpt_path}: its weights do not fit this model ({one_line_of(exc)})") from None
    log.info(f"warm start: weights from {ckpt_path}")


def one_line_of(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
