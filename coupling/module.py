"""CouplingLitModule: trains any pair-scoring net with any loss and logs ranking metrics per split.

Split names come from the datamodule (``val_split_names``, ``test_split_names``) in dataloader
order. Validation logs ``{split}/...`` (e.g. ``val/pairwise_acc``, ``golden/pass_rate``); test logs
``test_seen/...``, ``test_unseen/...`` and ``test_golden/...`` (a split without the ``test`` prefix
gets one). Metrics: loss, mae, spearman, kendall, pairwise_acc, and pass_rate on golden splits.

Each split is evaluated on every scoring path in ``eval_paths`` (aivj/contract/scoring_paths.py): ``render``
(the batch as it comes, names as above) and ``static`` (has_render forced to 0 on both layers, what
export scores without projectM; the same names prefixed ``static/``, e.g. ``static/test_unseen/pairwise_acc``).
"""

from __future__ import annotations

import functools

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch import nn
from torchmetrics import MeanAbsoluteError, MetricCollection

from aivj.contract.batch import path_batch
from aivj.contract.scoring_paths import SCORING_PATHS, metric_name
from coupling.attention_images import log_attention_images
from coupling.metrics import GoldenPassRate, KendallTau, PairwiseAccuracy, SpearmanRho
from coupling.setting_metrics import setting_metrics


def _ranking_metrics(golden: bool) -> MetricCollection:
    # Under DDP every rank validates the whole split (only training is sharded), so every rank already
    # holds the full-split value: a sync would count each pair once per rank (and change Kendall's ties).
    kw = {"sync_on_compute": False}
    metrics = {
        "mae": MeanAbsoluteError(**kw),
        "spearman": SpearmanRho(**kw),
        "kendall": KendallTau(**kw),
        "pairwise_acc": PairwiseAccuracy(**kw),
    }
    if golden:
        metrics["pass_rate"] = GoldenPassRate(**kw)
    return MetricCollection(metrics)


def _flat_config(prefix: str, obj) -> dict:
    """Scalars describing a net/loss (its ``config`` dict) or a Hydra partial (its keywords)."""
    if isinstance(obj, functools.partial):
        items = {"name": getattr(obj.func, "__name__", str(obj.func)), **obj.keywords}
    else:
        items = {"name": type(obj).__name__, **getattr(obj, "config", {})}
    return {f"{prefix}/{k}": v for k, v in items.items() if isinstance(v, (int, float, str, bool))}


class CouplingLitModule(L.LightningModule):
    def __init__(
        self,
        net: nn.Module,
        loss: nn.Module,
        optimizer=None,
        scheduler=None,
        monitor: str = "val/loss",
        scheduler_interval: str = "epoch",
        attention_images_every_n_epochs: int = 0,
        eval_paths=("render", "static"),
        compile_training: bool = False,
    ) -> None:
        super().__init__()
        # net and loss are modules (state dict), optimizer/scheduler are partials; hparams_flat() describes all.
        self.save_hyperparameters(ignore=["net", "loss", "optimizer", "scheduler", "eval_paths"], logger=False)
        self.net, self.loss = net, loss
        self.optimizer_factory = optimizer or functools.partial(torch.optim.AdamW, lr=1e-3, weight_decay=0.01)
        self.scheduler_factory = scheduler
        self.monitor, self.scheduler_interval = monitor, scheduler_interval
        self.split_metrics = nn.ModuleDict()  # filled in setup(), one collection per split
        self.attention_every = attention_images_every_n_epochs
        self._attention_batch: dict | None = None  # a fixed slice of the first val batch
        self.eval_paths = tuple(eval_paths)
        # torch.compile of the training forward + loss (validation and test stay eager: other batch sizes,
        # both scoring paths). 1.24x the eager step on CPU at 144 pairs a batch after ~40-70 s of compiling
        # (docs/benchmarks.md, "Training step"): it pays from ~10,000 training steps on.
        self.compile_training = bool(compile_training)
        self._compiled_step = None
        self._part_sums: dict[str, torch.Tensor] = {}  # the training loss parts summed over this epoch's pairs
        self._part_pairs = 0
        if "render" not in self.eval_paths or set(self.eval_paths) - set(SCORING_PATHS):
            raise ValueError(f"eval_paths must include 'render' and be among {SCORING_PATHS}, got {self.eval_paths}")

    # ----- splits and metrics -------------------------------------------------------------
    def _split_names(self, stage: str) -> list[str]:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        names = getattr(dm, f"{stage}_split_names", None)
        return list(names) if names else [stage]

    def _metric_key(self, stage: str, split: str) -> str:
        return split if stage != "test" or split.startswith("test") else f"test_{split}"

    def setup(self, stage: str) -> None:
        stages = {"fit": ["val"], "validate": ["val"], "test": ["test"]}.get(stage, [])
        for st in stages:
            for split in self._split_names(st):
                # Fresh each stage: a state left by an earlier validate() is an inference tensor.
                key = self._metric_key(st, split)
                for path in self.eval_paths:
                    self.split_metrics[self._store_key(path, key)] = _ranking_metrics(golden="golden" in split).to(self.device)

    @staticmethod
    def _store_key(path: str, key: str) -> str:
        return key if path == "render" else f"{path}__{key}"  # module names must not hold '/' or '.'

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        return self.net(batch)

    # ----- steps ---------------------------------------------------------------------------
    def _net_and_loss(self, batch: dict) -> dict[str, torch.Tensor]:
        return self.loss(self.net(batch), batch)

    def _training_losses(self, batch: dict) -> dict[str, torch.Tensor]:
        if not self.compile_training:
            return self._net_and_loss(batch)
        if self._compiled_step is None:
            # fallback_random: dropout masks from torch's own generator (inductor's per-element RNG was slower)
            self._compiled_step = torch.compile(self._net_and_loss, options={"fallback_random": True})
        return self._compiled_step(batch)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        losses = self._training_losses(batch)
        bs = batch["score"].shape[0]
        self.log("train/loss", losses["loss"], prog_bar=True, on_step=True, on_epoch=True, batch_size=bs)
        # The parts' epoch means are summed here and logged once an epoch (on_train_epoch_end): a self.log
        # call costs ~1 ms of Python, and five of them a step were a tenth of a 144-pair step.
        with torch.no_grad():
            for name, value in losses.items():
                if name != "loss":
                    total = value.detach().float() * bs  # float32 sums, as Lightning's epoch means kept them
                    self._part_sums[name] = self._part_sums[name] + total if name in self._part_sums else total
            self._part_pairs += bs
        return losses["loss"]

    def on_train_epoch_start(self) -> None:
        self._part_sums, self._part_pairs = {}, 0

    def on_train_epoch_end(self) -> None:
        for name, total in self._part_sums.items():  # the batch-size-weighted mean, as self.log(on_epoch=True) gives
            self.log(f"train/loss_{name}", total / self._part_pairs, on_step=False, on_epoch=True)

    def _eval_step(self, stage: str, batch: dict, dataloader_idx: int) -> None:
        names = self._split_names(stage)
        if dataloader_idx >= len(names):
            raise ValueError(f"{stage} dataloader {dataloader_idx} has no split name (datamodule gives {names})")
        key = self._metric_key(stage, names[dataloader_idx])
        out = self.net(batch)
        losses = self.loss(out, batch)
        bs = batch["score"].shape[0]
        log = functools.partial(self.log, on_step=False, on_epoch=True, add_dataloader_idx=False, batch_size=bs)
        log(f"{key}/loss", losses["loss"], prog_bar=True)
        for name, value in losses.items():
            if name != "loss":
                log(f"{key}/loss_{name}", value)
        figures, n_set = setting_metrics(out, batch)
        for name, value in figures.items():
            self.log(f"{key}/{name}", value, on_step=False, on_epoch=True, add_dataloader_idx=False, batch_size=n_set)
        if stage == "val" and dataloader_idx == 0 and self._attention_batch is None:
            self._attention_batch = {k: v[:256].detach() for k, v in batch.items() if torch.is_tensor(v)}
        score = batch["score"].float()
        for path in self.eval_paths:
            pred = out["score"].detach() if path == "render" else self.net(path_batch(batch, path))["score"].detach()
            for name, metric in self.split_metrics[self._store_key(path, key)].items():
                if name == "pass_rate":
                    metric.update(pred, score, batch.get("is_elite"))
                else:
                    metric.update(pred, score)
                log(
                    metric_name(path, f"{key}/{name}"),
                    metric,
                    prog_bar=path == "render" and name in ("pairwise_acc", "pass_rate"),
                )

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_step("val", batch, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        every, batch = self.attention_every, self._attention_batch
        if not every or batch is None or not hasattr(self.net, "attention_modules") or self.trainer.sanity_checking:
            return
        if self.current_epoch % every == 0:
            for logger in self.loggers:
                if isinstance(logger, TensorBoardLogger):
                    log_attention_images(self.net, batch, logger.experiment, self.current_epoch)

    def test_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_step("test", batch, dataloader_idx)

    def predict_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> torch.Tensor:
        return self.net(batch)["score"]

    # ----- optimisation and hparams ------------------------------------------------------
    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": self.monitor, "interval": self.scheduler_interval},
        }

    def hparams_flat(self) -> dict:
        flat = {
            **_flat_config("net", self.net),
            **_flat_config("loss", self.loss),
            **_flat_config("optimizer", self.optimizer_factory),
        }
        if self.scheduler_factory is not None:
            flat.update(_flat_config("scheduler", self.scheduler_factory))
        flat["params"] = sum(p.numel() for p in self.parameters())
        return flat
