"""GoldenSetGate on several scoring paths: every listed path must pass, each against its own threshold."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from callbacks import GoldenSetGate
from callbacks.events import read_events
from tests.helpers.tiny_module import RandomPairsDataModule, TinyCouplingModule


class StaticPathLogged(TinyCouplingModule):
    """Logs a static-path golden pass rate of its own: ``bad_epochs`` get 0.5, the others 0.95."""

    def __init__(self, bad_epochs=()) -> None:
        super().__init__()
        self.bad_epochs = set(bad_epochs)

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        self.log("static/golden/pass_rate", 0.5 if self.current_epoch in self.bad_epochs else 0.95)


def fit(tmp_path, module, callbacks, epochs=4):
    torch.manual_seed(0)
    trainer = L.Trainer(
        max_epochs=epochs,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        callbacks=callbacks,
        num_sanity_val_steps=0,
    )
    trainer.fit(module, datamodule=RandomPairsDataModule())
    return trainer


def test_a_failing_static_path_fails_the_epoch(tmp_path):
    gate = GoldenSetGate(threshold=0.9, paths=["render", "static"], thresholds={"static": 0.8}, rollback_paths=["render"])
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpt", monitor="val/gated_pairwise_acc", mode="max", save_top_k=1)
    fit(tmp_path, StaticPathLogged(bad_epochs=[2, 3]), [gate, ckpt])
    assert gate.thresholds == {"render": 0.9, "static": 0.8}
    assert all(h["pass_rates"]["render"] >= 0.9 for h in gate.history[1:])  # render passes throughout
    assert [h["passed"] for h in gate.history][1:] == [True, False, False]
    fails = [e for e in read_events(tmp_path) if e["kind"] == "golden_gate_fail"]
    assert [e["failing_paths"] for e in fails if e["epoch"] >= 2] == [["static"], ["static"]]
    assert not any(e["kind"] == "rollback" for e in read_events(tmp_path))  # static is not a rollback path
    assert torch.load(ckpt.best_model_path, weights_only=False)["epoch"] in (0, 1)


def test_the_gate_counts_an_unlogged_static_path_itself(tmp_path):
    # TinyCouplingModule logs no static/ figure, so the gate scores the golden batches with has_render = 0
    # (the random data has no renders: the two paths must agree exactly).
    gate = GoldenSetGate(threshold=0.5, paths=["render", "static"], rollback=False)
    fit(tmp_path, TinyCouplingModule(), [gate], epochs=2)
    for h in gate.history:
        assert h["pass_rates"]["static"] == pytest.approx(h["pass_rates"]["render"], abs=1e-6)
    lenient = GoldenSetGate(threshold=0.5, paths=["render"])
    assert lenient.thresholds == {"render": 0.5}


def test_bad_paths_or_thresholds_are_refused():
    with pytest.raises(ValueError, match="paths"):
        GoldenSetGate(paths=["render", "shader"])
    with pytest.raises(ValueError, match="static threshold"):
        GoldenSetGate(paths=["static"], thresholds={"static": 1.5})
