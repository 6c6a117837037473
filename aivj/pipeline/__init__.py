"""``aivj pipeline``: packs -> Parquet -> search -> final training -> gate -> promotion -> report -> export.

``cli`` (arguments, state file, resume), ``stages`` (one function a stage), ``search`` (the budgeted
Optuna search), ``config`` (composing train.py's config in-process), ``dry_run``, ``report``.
``scripts/run_full_training.py`` runs the same ``main``.
"""
