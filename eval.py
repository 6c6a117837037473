"""Evaluate a checkpoint on the test splits and the golden set; writes ``metrics.json``.

python eval.py ckpt_path=var/runs/train/runs/<run>/checkpoints/last.ckpt
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

from aivj.inference.checkpoint import read_checkpoint  # noqa: E402
from aivj.training import (  # noqa: E402
    apply_extras,
    build,
    instantiate_group,
    log,
    save_metrics,
    scalar_metrics,
)
from aivj.validate import ConfigError, exit_on_bad_config, fail  # noqa: E402


def evaluate(cfg: DictConfig) -> dict[str, float]:
    # Read without running code (weights_only; aivj/inference/checkpoint.py), then test those weights.
    checkpoint = read_checkpoint(cfg.ckpt_path)
    L.seed_everything(cfg.seed, workers=True)
    datamodule = build(cfg.data)
    model = build(cfg.model)
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:
        raise ConfigError(
            f"ckpt_path={cfg.ckpt_path}: its weights do not fit model={cfg.model.get('_target_')} "
            f"({str(exc).strip().splitlines()[0][:160]})"
        ) from None
    trainer = build(cfg.trainer, logger=instantiate_group(cfg.get("logger")), callbacks=[])
    trainer.test(model=model, datamodule=datamodule)
    metrics = scalar_metrics(trainer.callback_metrics)
    save_metrics(cfg.paths.output_dir, metrics, checkpoint=os.path.abspath(cfg.ckpt_path))
    log.info(f"run folder: {cfg.paths.output_dir}")
    return metrics


@hydra.main(version_base="1.3", config_path="conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    apply_extras(cfg)
    exit_on_bad_config(cfg, "eval.py")
    try:
        evaluate(cfg)
    except ConfigError as exc:
        fail("eval.py", exc)
    print(f"run folder: {cfg.paths.output_dir}")


if __name__ == "__main__":
    main()
