"""DriftMonitor: KL divergence of this epoch's predicted score histogram from a reference one.

The reference is, in order: a histogram restored from a checkpoint (resume), ``reference_path``
(a JSON file with ``counts``), the registry champion's stored reference histogram
(``reference: champion``), else the predictions of the first validation epoch at or after
``warmup_epochs``. Above ``threshold`` (0.1 nats) the epoch is voted bad and the run rolls back.
Every epoch's histogram goes to ``pred_histograms.json`` in the run folder; the registry stores the
one of the registered checkpoint's epoch as that version's reference.

A reference taken from the registry is written beside the run's config (``.hydra/drift_reference.json``)
when the run starts, and a run restarted in that folder reads it back: the run is judged against the
champion of the day it started, whatever the registry's champion is by then.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from aivj.contract.atomic import write_json_atomic
from aivj.registry.api import data_hash
from aivj.registry.store import Registry
from callbacks.events import emit_event, publish_metrics, run_dir
from callbacks.histogram import kl_divergence, score_histogram
from callbacks.predictions import batch_predictions, split_index
from callbacks.rollback import RollbackJudge, last_good

HISTOGRAMS_FILE = "pred_histograms.json"
REFERENCE_FILE = Path(".hydra") / "drift_reference.json"


def champion_reference(registry_dir: str | None, data_dir=None) -> tuple[list[int] | None, str]:
    """The reference histogram of the champion trained on the same data (shipped champion included).

    A champion of other data predicted another score distribution: comparing with it would read a
    change of dataset as drift, so without a same-data champion the first epoch is the reference.
    """
    reg = Registry(registry_dir)
    version = reg.champion_for(data_hash(data_dir)) if data_dir else None
    if version is None:
        return None, ""
    ref = reg.reference_histogram(version)
    return (ref["counts"], f"champion {version}") if ref else (None, "")


class DriftMonitor(RollbackJudge):
    def __init__(
        self,
        threshold: float = 0.1,
        bins: int = 20,
        smoothing: float = 0.5,
        split: str = "val",
        dataloader_idx: int = 0,
        reference: str = "champion",
        reference_path: str | None = None,
        registry_dir: str | None = None,
        warmup_epochs: int = 0,
        rollback: bool = True,
    ) -> None:
        super().__init__()
        if reference not in ("champion", "first_epoch"):
            raise ValueError(f"DriftMonitor: reference must be 'champion' or 'first_epoch', got {reference!r}")
        self.threshold, self.bins, self.smoothing = float(threshold), int(bins), float(smoothing)
        self.split, self.dataloader_idx = split, dataloader_idx
        self.reference_mode, self.reference_path, self.registry_dir = reference, reference_path, registry_dir
        self.warmup_epochs, self.do_rollback = int(warmup_epochs), rollback
        self.reference: list[int] | None = None
        self.reference_source = ""
        self.by_epoch: dict[str, list[int]] = {}
        self.kl_history: list[dict] = []
        self.rollbacks = 0
        self._preds: list[torch.Tensor] = []

    def on_train_start(self, trainer, pl_module) -> None:
        super().on_train_start(trainer, pl_module)
        self._resolve_reference(trainer)

    def _resolve_reference(self, trainer) -> None:
        if self.reference is not None:  # restored from a checkpoint
            return
        if self.reference_path:
            path = Path(self.reference_path)
            try:
                self.reference = list(json.loads(path.read_text())["counts"])
            except (OSError, KeyError, json.JSONDecodeError) as exc:
                raise ValueError(f"{path}: not a reference histogram with 'counts' ({exc})") from exc
            self.reference_source = str(path)
        elif self.reference_mode == "champion":
            stored = run_dir(trainer) / REFERENCE_FILE
            if stored.is_file():  # this run folder pinned its champion's reference when it started
                doc = json.loads(stored.read_text())
                self.reference, self.reference_source = list(doc["counts"]), doc["source"]
            else:
                data_dir = getattr(getattr(trainer, "datamodule", None), "data_dir", None)
                self.reference, self.reference_source = champion_reference(self.registry_dir, data_dir)
                if self.reference is not None and trainer.is_global_zero:
                    write_json_atomic({"counts": self.reference, "source": self.reference_source}, stored)
        if self.reference is not None:
            self.bins = len(self.reference)
            emit_event(trainer, "drift_reference", source=self.reference_source, bins=self.bins)

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self._preds = []

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if dataloader_idx == split_index(trainer, self.split, self.dataloader_idx):
            self._preds.append(batch_predictions(pl_module, outputs, batch))

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or not self._preds:
            return
        counts = score_histogram(torch.cat(self._preds).numpy(), self.bins)
        self.by_epoch[str(trainer.current_epoch)] = counts
        if self.reference is None:
            if trainer.current_epoch >= self.warmup_epochs:
                self.reference, self.reference_source = counts, f"first validation epoch {trainer.current_epoch}"
                emit_event(trainer, "drift_reference", source=self.reference_source, bins=self.bins)
            self._write(trainer)
            return
        kl = trainer.strategy.broadcast(
            kl_divergence(counts, self.reference, self.smoothing), src=0
        )  # one decision for all ranks
        self.kl_history.append({"epoch": trainer.current_epoch, "step": trainer.global_step, "kl": kl})
        publish_metrics(trainer, {"drift/kl": kl})
        self._write(trainer)
        drifted = kl > self.threshold
        store = last_good(trainer)
        store.vote(trainer, not drifted)
        if not drifted:
            return
        emit_event(trainer, "drift", kl=kl, threshold=self.threshold, reference=self.reference_source)
        if self.do_rollback and store.rollback(
            trainer, pl_module, source="DriftMonitor", reason=f"KL {kl:.4f} > {self.threshold}", kl=kl
        ):
            self.rollbacks += 1

    def _write(self, trainer) -> None:
        if not trainer.is_global_zero:
            return
        write_json_atomic(
            {
                "bins": self.bins,
                "range": [0.0, 5.0],
                "split": self.split,
                "smoothing": self.smoothing,
                "by_epoch": self.by_epoch,
                "reference": self.reference,
                "reference_source": self.reference_source,
                "kl": self.kl_history,
            },
            run_dir(trainer) / HISTOGRAMS_FILE,
        )

    def state_dict(self) -> dict:
        return {
            "reference": self.reference,
            "reference_source": self.reference_source,
            "bins": self.bins,
            "by_epoch": dict(self.by_epoch),
            "kl_history": list(self.kl_history),
            "rollbacks": self.rollbacks,
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self.reference = state_dict.get("reference")
        self.reference_source = state_dict.get("reference_source", "")
        self.bins = int(state_dict.get("bins", self.bins))
        self.by_epoch = dict(state_dict.get("by_epoch", {}))
        self.kl_history = list(state_dict.get("kl_history", []))
        self.rollbacks = int(state_dict.get("rollbacks", 0))
