"""OptunaPruning: report each validation's metric to the running Optuna trial; stop trials the pruner rejects.

The Hydra Optuna sweeper asks the study for a trial, turns its parameters into overrides and
launches ``train.py``; the task never sees the trial. This callback finds it again: inside a
multirun job it opens the study through the sweeper's storage URL (any RDB storage: SQLite file,
PostgreSQL) and picks the RUNNING trial whose parameters are exactly this job's overrides (the
sweeper writes each one as ``name=value`` with the same formatting), claims it with a user attribute,
and calls ``trial.report`` / ``trial.should_prune`` per epoch. docs/training.md has the evidence.

A pruned trial cannot be marked PRUNED from here: the sweeper tells the trial COMPLETE when the task
returns, and telling a finished trial raises, which would abort the sweep. So a pruned trial stops
training, gets ``pruned_at_epoch`` as a user attribute, and completes with its last metric value.
Outside an Optuna multirun with a storage URL the callback does nothing. Trials are assumed to train
in one process (only rank 0 looks for the trial; a pruned multi-process run would stop rank 0 alone).

``SqliteStorageFolder`` is a Hydra (not Lightning) callback: SQLAlchemy does not create the folder of
a ``sqlite:///...`` URL, and the sweeper opens the study before anything else creates the run folder.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import lightning as L
from hydra.experimental.callback import Callback as HydraCallback

from callbacks.events import emit_event

log = logging.getLogger(__name__)

CLAIM_ATTR = "aivj_job_dir"  # user attribute: the run folder of the job that owns the trial


class SqliteStorageFolder(HydraCallback):
    """Creates the folder of ``hydra.sweeper.storage`` when it is a SQLite file URL."""

    def on_multirun_start(self, config, **kwargs) -> None:
        storage = str(config.hydra.sweeper.get("storage") or "")
        if storage.startswith("sqlite:///") and storage != "sqlite:///:memory:":
            Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def make_pruner(
    kind: str, n_startup_trials: int, n_warmup_steps: int, percentile: float, min_resource: int, reduction_factor: int
):
    """The pruner that judges this trial (it runs in the task's process, so it is configured here)."""
    import optuna

    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps)
    if kind == "percentile":
        return optuna.pruners.PercentilePruner(percentile, n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps)
    if kind == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=min_resource, reduction_factor=reduction_factor)
    if kind == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"OptunaPruning: pruner must be median, percentile, successive_halving or none, got {kind!r}")


def sweep_context() -> tuple[str, str, list[str]] | None:
    """(storage URL, study name, this job's task overrides) inside an Optuna multirun job, else None."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    sweeper = hc.get("sweeper") or {}
    if hc.mode != RunMode.MULTIRUN or "optuna" not in str(sweeper.get("_target_", "")).lower():
        return None
    storage, study_name = sweeper.get("storage"), sweeper.get("study_name")
    if not storage or not study_name:
        return None
    return str(storage), str(study_name), list(hc.overrides.task)


def claim_running_trial(study, task_overrides: list[str], job_dir: str):
    """The RUNNING, unclaimed trial whose every parameter appears in ``task_overrides`` (lowest number first)."""
    import optuna

    wanted = set(task_overrides)
    for frozen in sorted(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)), key=lambda t: t.number):
        if CLAIM_ATTR in frozen.user_attrs or not frozen.params:
            continue
        if all(f"{name}={value}" in wanted for name, value in frozen.params.items()):
            trial = optuna.trial.Trial(study, frozen._trial_id)
            trial.set_user_attr(CLAIM_ATTR, job_dir)
            return trial
    return None


class OptunaPruning(L.Callback):
    def __init__(
        self,
        monitor: str = "val/pairwise_acc",
        pruner: str = "median",
        n_startup_trials: int = 3,
        n_warmup_steps: int = 1,
        percentile: float = 25.0,
        min_resource: int = 1,
        reduction_factor: int = 3,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.pruner_args = (pruner, n_startup_trials, n_warmup_steps, percentile, min_resource, reduction_factor)
        make_pruner(*self.pruner_args)  # a bad pruner name fails at build time, not mid-sweep
        self.trial = None
        self.pruned_at: int | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit" or self.trial is not None or not trainer.is_global_zero:
            return
        context = sweep_context()
        if context is None:
            return
        import optuna

        storage, study_name, overrides = context
        study = optuna.load_study(study_name=study_name, storage=storage, pruner=make_pruner(*self.pruner_args))
        self.trial = claim_running_trial(study, overrides, str(trainer.default_root_dir))
        if self.trial is None:
            log.warning(
                f"OptunaPruning: no RUNNING trial of study {study_name!r} matches this job's overrides; "
                "pruning is off for this run"
            )
        else:
            log.info(f"OptunaPruning: reporting {self.monitor} to trial {self.trial.number} of {study_name!r}")

    def on_validation_end(self, trainer, pl_module) -> None:
        if self.trial is None or trainer.sanity_checking or self.pruned_at is not None:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        epoch = trainer.current_epoch
        self.trial.report(float(value), step=epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            self.trial.set_user_attr("pruned_at_epoch", epoch)
            trainer.should_stop = True
            emit_event(trainer, "optuna_pruned", trial=self.trial.number, metric=self.monitor, value=float(value))
            log.info(f"OptunaPruning: trial {self.trial.number} pruned at epoch {epoch} ({self.monitor}={float(value):.4f})")
