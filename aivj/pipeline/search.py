"""The pipeline's budgeted search: one ``train.py -m hparams_search=...`` subprocess per trial.

All trials go to one study in ``<out>/search/optuna.db``, so the budget can be checked between
trials (``--timeout`` works like Optuna's: no new trial starts after it, a running one finishes),
a progress bar counts trials, and a killed pipeline continues the study. Each call passes the sampler
seed ``seed + trials already in the study``: reproducible, and a fresh process does not repeat the
random start-up suggestions of the one before (a TPESampler's start-up draws come from its seed).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from aivj.pipeline.config import ROOT
from aivj.pipeline.errors import StageFailed

STUDY = "pipeline"
MAX_CONSECUTIVE_FAILURES = 3


def storage_url(folder: Path) -> str:
    return f"sqlite:///{folder.resolve() / 'optuna.db'}"


def open_study(folder: Path, direction: str = "maximize"):
    import optuna

    folder.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name=STUDY, storage=storage_url(folder), direction=direction, load_if_exists=True)


def fail_orphans(study) -> int:
    """RUNNING trials left by a killed run of this pipeline (it owns the study) become FAIL."""
    import optuna

    orphans = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for t in orphans:
        study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
    return len(orphans)


def summarize(study) -> tuple[str, dict]:
    import optuna

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not done:
        raise RuntimeError("no trial completed")
    best = study.best_trial  # per the study's direction
    pruned = sum(1 for t in done if "pruned_at_epoch" in t.user_attrs)
    outcome = f"{len(done)} trials ({pruned} pruned), best value {best.value:.4f} (trial {best.number}); params {best.params}"
    return outcome, {
        "best_params": dict(best.params),
        "best_value": best.value,
        "best_trial": best.number,
        "trials": len(done),
        "pruned": pruned,
    }


def run_search(
    folder: Path,
    search_config: str,
    overrides: list[str],
    trials: int,
    timeout: float | None,
    seed: int,
    progress: bool,
    direction: str = "maximize",
) -> tuple[str, dict]:
    import optuna
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    study = open_study(folder, direction)
    orphans = fail_orphans(study)
    deadline = None if timeout is None else time.monotonic() + timeout
    complete = lambda: len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))  # noqa: E731
    failures = 0
    with Progress(TextColumn("search"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task("trials", total=trials, completed=min(complete(), trials))
        while complete() < trials:
            if deadline is not None and time.monotonic() >= deadline:
                break
            n = len(study.trials)
            log = folder / f"trial_{n:03d}.log"
            cmd = [
                sys.executable,
                "train.py",
                "-m",
                f"hparams_search={search_config}",
                *overrides,
                "hydra.sweeper.n_trials=1",
                f"hydra.sweeper.storage={storage_url(folder)}",
                f"hydra.sweeper.study_name={STUDY}",
                f"hydra.sweeper.sampler.seed={seed + n}",
                f"hydra.sweep.dir={folder / f'trial_{n:03d}'}",
                "extras.print_config=false",
            ]
            with open(log, "w", encoding="utf-8") as fh:
                rc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT).returncode
            failures = 0 if rc == 0 else failures + 1
            if failures >= MAX_CONSECUTIVE_FAILURES:
                raise StageFailed(f"{failures} trials in a row failed; last log: {log}")
            bar.update(task, completed=min(complete(), trials))
    try:
        outcome, data = summarize(study)
        data["storage"] = storage_url(folder)
    except RuntimeError as exc:
        raise StageFailed(f"{exc} in {storage_url(folder)} (logs in {folder})") from exc
    if deadline is not None and data["trials"] < trials:
        outcome += f"; --timeout stopped it after {data['trials']} of {trials}"
    if orphans:
        outcome += f"; {orphans} trial(s) of a killed run marked FAIL"
    return outcome, data
