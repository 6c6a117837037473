"""Train the coupling model: compose the config, build every part from ``_target_``, fit, test.

    python train.py                               default data and model
    python train.py experiment=smoke              under a minute on 2 CPU cores
    python train.py -m hparams_search=coupling_optuna experiment=full

The run folder receives TensorBoard events, checkpoints and ``metrics.json``; the finished
run is offered to the model registry. Returns ``optimized_metric`` for sweepers.
"""

from __future__ import annotations

import os

os.environ.setdefault("AIVJ_ROOT", os.path.dirname(os.path.abspath(__file__)))

import warnings  # noqa: E402

# Hydra 1.4 warns about version_base whatever is passed (docs/stack.md).
warnings.filterwarnings("ignore", message=".*version_base parameter.*")

import hydra  # noqa: E402
import lightning as L  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from aivj.training import (  # noqa: E402
    apply_extras,
    build,
    instantiate_group,
    log,
    log_hparams_view,
    report_and_register,
    save_metrics,
    scalar_metrics,
    warm_start,
)
from aivj.validate import exit_on_bad_config  # noqa: E402


def train(cfg: DictConfig) -> dict[str, float]:
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    datamodule: L.LightningDataModule = build(cfg.data)
    model: L.LightningModule = build(cfg.model)
    if cfg.get("init_from") and not cfg.get("ckpt_path"):
        warm_start(model, cfg.init_from)  # the daemon's incremental runs start from the champion's weights
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"))
    trainer: L.Trainer = build(cfg.trainer, callbacks=callbacks, logger=loggers)

    if cfg.get("train"):
        trainer.fit(model=model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    metrics = scalar_metrics(trainer.callback_metrics)

    best_ckpt = next((cb.best_model_path for cb in trainer.checkpoint_callbacks if cb.monitor), "")
    if cfg.get("test"):
        # Test the best checkpoint, not the last weights; fall back when none was saved (fast_dev_run).
        trainer.test(model=model, datamodule=datamodule, ckpt_path=best_ckpt or None)
        metrics.update(scalar_metrics(trainer.callback_metrics))

    run_dir = cfg.paths.output_dir
    save_metrics(run_dir, metrics, best_checkpoint=best_ckpt or None, epochs=trainer.current_epoch)
    log_hparams_view(loggers, cfg, metrics, model)
    if best_ckpt and cfg.get("registry") and cfg.registry.get("enabled"):
        report_and_register(cfg, model, datamodule, metrics, best_ckpt)
    log.info(f"run folder: {run_dir}")
    return metrics


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    apply_extras(cfg)
    exit_on_bad_config(cfg, "train.py")  # one line naming the key or file, before any data is loaded
    metrics = train(cfg)
    print(f"run folder: {cfg.paths.output_dir}")
    return metrics.get(cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
