"""GoldenSetGate and ValLossTrend on a tiny model with deliberately degraded epochs: the rollback happens."""

from __future__ import annotations

import csv

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from callbacks import GoldenSetGate, ValLossTrend
from callbacks.events import read_events
from tests.helpers.tiny_module import RandomPairsDataModule, TinyCouplingModule


def _training_state(trainer, pl_module):
    opt = trainer.optimizers[0].state_dict()
    return {
        "model": {k: v.clone() for k, v in pl_module.state_dict().items()},
        "exp_avg": [s["exp_avg"].clone() for s in opt["state"].values()],
        "scheduler": dict(trainer.lr_scheduler_configs[0].scheduler.state_dict()),
    }


class Degrade(Callback):
    """Breaks the model just before validation of the chosen epochs; records the state around it."""

    def __init__(self, epochs, bias=-5.0, cumulative=False):
        self.epochs, self.bias, self.cumulative = set(epochs), bias, cumulative
        self.after_epoch_end, self.after_validation = {}, {}

    def on_validation_epoch_start(self, trainer, pl_module):
        if not trainer.sanity_checking and trainer.current_epoch in self.epochs:
            head = pl_module.net.head
            with torch.no_grad():
                if self.cumulative:  # a growing bias: the loss gets worse every epoch
                    head.bias += self.bias * (trainer.current_epoch - min(self.epochs) + 1)
                else:  # every prediction near 0: golden positives fail
                    head.weight.zero_()
                    head.bias.fill_(self.bias)

    def on_validation_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self.after_validation[trainer.current_epoch] = _training_state(trainer, pl_module)

    def on_train_epoch_end(self, trainer, pl_module):
        self.after_epoch_end[trainer.current_epoch] = _training_state(trainer, pl_module)


def fit(tmp_path, callbacks, epochs, ckpt_path=None, logger=False):
    torch.manual_seed(0)
    trainer = L.Trainer(
        max_epochs=epochs,
        logger=logger,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        callbacks=callbacks,
        num_sanity_val_steps=0,
    )
    trainer.fit(TinyCouplingModule(), datamodule=RandomPairsDataModule(), ckpt_path=ckpt_path)
    return trainer


def same_state(a, b):
    return (
        all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
        and all(torch.equal(x, y) for x, y in zip(a["exp_avg"], b["exp_avg"]))
        and a["scheduler"] == b["scheduler"]
    )


def test_golden_gate_rolls_back_a_degraded_model_and_keeps_it_from_best(tmp_path):
    gate = GoldenSetGate(threshold=0.9, patience=2)
    degrade = Degrade(epochs=[3, 4])
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", monitor="val/gated_pairwise_acc", mode="max", save_top_k=1)
    fit(tmp_path, [gate, degrade, ckpt], epochs=5, logger=CSVLogger(tmp_path, name="csv", version=""))

    assert [h["passed"] for h in gate.history][1:] == [True, True, False, False]
    rollbacks = [e for e in read_events(tmp_path) if e["kind"] == "rollback"]
    assert [(e["source"], e["epoch"], e["restored_epoch"]) for e in rollbacks] == [("GoldenSetGate", 4, 2)]
    # Model, optimizer and scheduler are back to the end of epoch 2, the last state every gate passed.
    assert same_state(degrade.after_validation[4], degrade.after_epoch_end[2])
    assert not same_state(degrade.after_validation[3], degrade.after_epoch_end[2])
    # Failing epochs publish the gated metric as -1, so the best checkpoint is a passing epoch.
    rows = list(csv.DictReader(open(tmp_path / "csv" / "metrics.csv")))
    gated = {int(float(r["epoch"])): float(r["val/gated_pairwise_acc"]) for r in rows if r.get("val/gated_pairwise_acc")}
    assert gated[3] == gated[4] == -1.0 and gated[2] > 0.5
    assert float(ckpt.best_model_score) == max(gated.values())
    assert torch.load(ckpt.best_model_path, weights_only=False)["epoch"] in (1, 2)


def test_golden_gate_state_survives_resume(tmp_path):
    def checkpoints():  # the gated best, and every epoch's state for resuming
        return [
            ModelCheckpoint(dirpath=tmp_path / "best", monitor="val/gated_pairwise_acc", mode="max"),
            ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True),
        ]

    gate = GoldenSetGate(threshold=0.9, patience=2)
    fit(tmp_path, [gate, Degrade(epochs=[2]), *checkpoints()], epochs=3)
    assert gate.consecutive_failures == 1 and not any(e["kind"] == "rollback" for e in read_events(tmp_path))

    resumed_gate = GoldenSetGate(threshold=0.9, patience=2)
    fit(tmp_path, [resumed_gate, Degrade(epochs=[3]), *checkpoints()], epochs=4, ckpt_path=str(tmp_path / "ckpt" / "last.ckpt"))
    # The failure counter came back from the checkpoint: the second failure in a row rolls back,
    # to the best (passing) checkpoint because the resumed weights were those of a failing epoch.
    rollbacks = [e for e in read_events(tmp_path) if e["kind"] == "rollback"]
    assert len(rollbacks) == 1 and rollbacks[0]["epoch"] == 3
    assert rollbacks[0]["restored_from"].endswith(".ckpt") and rollbacks[0]["restored_epoch"] in (0, 1)
    assert [h["epoch"] for h in resumed_gate.history] == [0, 1, 2, 3]


def test_val_loss_trend_rolls_back_to_the_state_before_the_streak(tmp_path):
    trend = ValLossTrend(epochs=3, action="rollback")
    degrade = Degrade(epochs=[2, 3, 4], bias=0.4, cumulative=True)
    fit(tmp_path, [trend, degrade], epochs=5)
    events = read_events(tmp_path)
    rising = [e for e in events if e["kind"] == "val_loss_rising"]
    assert [e["epoch"] for e in rising] == [4]
    rollbacks = [e for e in events if e["kind"] == "rollback"]
    assert [(e["source"], e["restored_epoch"]) for e in rollbacks] == [("ValLossTrend", 1)]
    assert same_state(degrade.after_validation[4], degrade.after_epoch_end[1])


def test_val_loss_trend_warn_only_warns(tmp_path):
    trend = ValLossTrend(epochs=3, action="warn")
    degrade = Degrade(epochs=[2, 3, 4], bias=0.4, cumulative=True)
    fit(tmp_path, [trend, degrade], epochs=5)
    kinds = [e["kind"] for e in read_events(tmp_path)]
    assert kinds.count("val_loss_rising") == 1 and "rollback" not in kinds
    assert trend.state_dict()["rising"] == 3
