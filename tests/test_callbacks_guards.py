"""NonFiniteGuard (NaN loss, gradient, weight) and DriftMonitor (a drifting output distribution)."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import TensorBoardLogger

from callbacks import DriftMonitor, NonFiniteGuard, NonFiniteTrainingError
from callbacks.events import read_events
from callbacks.histogram import kl_divergence, score_histogram
from tests.helpers.tiny_module import RandomPairsDataModule, TinyCouplingModule


def fit(tmp_path, callbacks, epochs=2, logger=False, **module_kwargs):
    torch.manual_seed(0)
    module = TinyCouplingModule(**module_kwargs)
    trainer = L.Trainer(
        max_epochs=epochs,
        logger=logger,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=tmp_path,
        callbacks=callbacks,
        num_sanity_val_steps=0,
    )
    trainer.fit(module, datamodule=RandomPairsDataModule())
    return trainer, module


def finite(module):
    return all(torch.isfinite(p).all() for p in module.parameters())


def test_nan_loss_restores_state_and_halves_lr(tmp_path):
    guard = NonFiniteGuard(max_events=3, snapshot_every_n_steps=4)
    logger = TensorBoardLogger(tmp_path, name="tb", version="")
    trainer, module = fit(tmp_path, [guard], epochs=2, logger=logger, nan_at_steps=(6,))
    assert finite(module)
    events = read_events(tmp_path)
    non_finite = [e for e in events if e["kind"] == "non_finite"]
    assert [(e["what"], e["global_step"], e["restored_step"]) for e in non_finite] == [("loss", 6, 4)]
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.01)  # 0.02 halved
    assert trainer.lr_scheduler_configs[0].scheduler.base_lrs[0] == pytest.approx(0.01)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb")).Reload()
    assert "events/non_finite_count" in acc.Tags()["scalars"]


def test_nan_gradient_and_weight_are_caught(tmp_path):
    class Break(Callback):
        def on_after_backward(self, trainer, pl_module):
            if trainer.global_step == 5:
                pl_module.net.head.weight.grad[0, 0] = float("inf")

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_step == 11:  # after step 10's update
                with torch.no_grad():
                    pl_module.net.enc.weight[0, 0] = float("nan")

    guard = NonFiniteGuard(max_events=3, snapshot_every_n_steps=2)
    trainer, module = fit(tmp_path, [Break(), guard], epochs=2)
    assert finite(module)
    kinds = [(e["what"], e["restored_step"]) for e in read_events(tmp_path) if e["kind"] == "non_finite"]
    assert kinds == [("gradient", 4), ("weight", 10)]
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.005)  # halved twice
    assert guard.state_dict()["events"][0]["kind"] == "gradient"


def test_third_non_finite_event_stops_the_run(tmp_path):
    with pytest.raises(NonFiniteTrainingError, match="3 non-finite events"):
        fit(tmp_path, [NonFiniteGuard(max_events=3)], epochs=2, nan_at_steps=(3, 7, 12))
    kinds = [e["kind"] for e in read_events(tmp_path)]
    assert kinds.count("non_finite") == 2 and kinds[-1] == "non_finite_stop"


class Shift(Callback):
    """Adds a bias to the output layer before validation of the chosen epochs (a drifting model)."""

    def __init__(self, epochs, bias):
        self.epochs, self.bias, self.after_epoch_end, self.after_validation = set(epochs), bias, {}, {}

    def on_validation_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch in self.epochs:
            with torch.no_grad():
                pl_module.net.head.bias += self.bias

    def on_validation_end(self, trainer, pl_module):
        self.after_validation[trainer.current_epoch] = {k: v.clone() for k, v in pl_module.state_dict().items()}

    def on_train_epoch_end(self, trainer, pl_module):
        self.after_epoch_end[trainer.current_epoch] = {k: v.clone() for k, v in pl_module.state_dict().items()}


def test_drift_rolls_back_and_stable_training_does_not(tmp_path):
    monitor = DriftMonitor(threshold=0.1, bins=10, reference="first_epoch", warmup_epochs=3)
    shift = Shift(epochs=[5], bias=3.0)
    fit(tmp_path, [monitor, shift], epochs=6, lr=0.01)
    kl = {h["epoch"]: h["kl"] for h in monitor.kl_history}
    assert set(kl) == {4, 5}
    assert kl[4] < 0.1 < kl[5]  # the converged model stays put; the shifted one drifts
    rollbacks = [e for e in read_events(tmp_path) if e["kind"] == "rollback"]
    assert [(e["source"], e["epoch"], e["restored_epoch"]) for e in rollbacks] == [("DriftMonitor", 5, 4)]
    assert all(torch.equal(shift.after_validation[5][k], shift.after_epoch_end[4][k]) for k in shift.after_epoch_end[4])
    saved = json.loads((tmp_path / "pred_histograms.json").read_text())
    assert saved["reference"] == saved["by_epoch"]["3"] and len(saved["by_epoch"]) == 6


def test_drift_reference_from_a_file_and_state_roundtrip(tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps({"counts": score_histogram(torch.full((200,), 4.9).numpy(), 10)}))
    monitor = DriftMonitor(threshold=0.1, reference_path=str(ref), rollback=False)
    fit(tmp_path, [monitor], epochs=1)
    assert monitor.bins == 10 and monitor.kl_history[0]["kl"] > 1.0  # a trained model is not all 4.9
    assert "drift" in [e["kind"] for e in read_events(tmp_path)]
    clone = DriftMonitor()
    clone.load_state_dict(monitor.state_dict())
    assert clone.reference == monitor.reference and clone.kl_history == monitor.kl_history


def test_a_champion_reference_is_pinned_in_the_run_folder(tmp_path, monkeypatch):
    from callbacks import drift_monitor

    counts = score_histogram(torch.full((200,), 4.9).numpy(), 10)
    monkeypatch.setattr(drift_monitor, "champion_reference", lambda registry, data: (counts, "champion v1_abcd"))
    fit(tmp_path, [DriftMonitor(reference="champion", rollback=False)], epochs=1)
    pinned = json.loads((tmp_path / ".hydra" / "drift_reference.json").read_text())
    assert pinned == {"counts": counts, "source": "champion v1_abcd"}
    # The registry's champion changes; a run restarted in this folder keeps the one it started with.
    monkeypatch.setattr(drift_monitor, "champion_reference", lambda registry, data: ([1] * 10, "champion v2_beef"))
    again = DriftMonitor(reference="champion", rollback=False)
    fit(tmp_path, [again], epochs=1)
    assert again.reference == counts and again.reference_source == "champion v1_abcd"


def test_kl_of_identical_histograms_is_zero_and_grows_with_shift():
    a = score_histogram(torch.linspace(0, 5, 500).numpy())
    b = score_histogram(torch.linspace(1, 5, 500).numpy())
    assert kl_divergence(a, a) == pytest.approx(0.0) and kl_divergence(b, a) > 0.1
