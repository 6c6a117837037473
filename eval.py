"""Evaluate a checkpoint on the test splits and the golden set; writes ``metrics.json``.

    python eval.py ckpt_path=outputs/train/runs/<run>/checkpoints/last.ckpt
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

from aivj.training import apply_extras, build, instantiate_group, log, save_metrics, scalar_metrics  # noqa: E402


def evaluate(cfg: DictConfig) -> dict[str, float]:
    if not os.path.exists(cfg.ckpt_path):
        raise FileNotFoundError(f"ckpt_path={cfg.ckpt_path}: no such checkpoint")
    L.seed_everything(cfg.seed, workers=True)
    datamodule = build(cfg.data)
    model = build(cfg.model)
    trainer = build(cfg.trainer, logger=instantiate_group(cfg.get("logger")), callbacks=[])
    trainer.test(model=model, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    metrics = scalar_metrics(trainer.callback_metrics)
    save_metrics(cfg.paths.output_dir, metrics, checkpoint=os.path.abspath(cfg.ckpt_path))
    log.info(f"run folder: {cfg.paths.output_dir}")
    return metrics


@hydra.main(version_base="1.3", config_path="conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    apply_extras(cfg)
    evaluate(cfg)
    print(f"run folder: {cfg.paths.output_dir}")


if __name__ == "__main__":
    main()
