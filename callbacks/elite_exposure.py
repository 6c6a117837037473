"""EliteExposureMonitor: proves in the training log what the elite data priority sampler did.

Every step logs ``sampler/elite_per_batch``; every epoch logs how often each elite pair was
shown (min / mean / max exposure and how many distinct elite pairs were seen), read from the
sampler itself so the figures are the sampler's decisions, not an estimate.
"""

from __future__ import annotations

import lightning as L
import numpy as np


class EliteExposureMonitor(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        # Only on the steps whose metrics the logger writes (log_every_n_steps): a self.log costs ~1 ms of
        # Python, and the values logged in between were dropped unwritten.
        if isinstance(batch, dict) and "is_elite" in batch and getattr(trainer._logger_connector, "should_update_logs", True):
            n = batch["is_elite"].sum().float()
            pl_module.log("sampler/elite_per_batch", n, on_step=True, on_epoch=False, batch_size=len(batch["is_elite"]))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        sampler = getattr(trainer.datamodule, "train_sampler", None) if trainer.datamodule is not None else None
        counts = getattr(sampler, "last_epoch_elite_counts", None)
        if not counts:
            return
        exposure = np.fromiter(counts.values(), dtype=np.float64)
        pool = max(len(getattr(sampler, "elite", [])), 1)
        pl_module.log_dict(
            {
                "sampler/elite_exposure_min": float(exposure.min()),
                "sampler/elite_exposure_mean": float(exposure.mean()),
                "sampler/elite_exposure_max": float(exposure.max()),
                "sampler/elite_coverage": len(counts) / pool,
            },
            on_step=False,
            on_epoch=True,
        )
