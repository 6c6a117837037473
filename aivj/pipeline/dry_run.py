"""``run_full_training.py --dry-run``: every check the stages would make first, and nothing written.

Checks: the configs compose (final run and search), the search space keys exist in the chosen model
and data configs, the dataset is readable (or will be ingested / generated), the output, registry
and dataset folders can be written, the export stage's packages import, and which stages a state
file already marks finished. One line per check; exit code 1 when any fails.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from aivj.pipeline.config import (
    compose_train,
    missing_search_keys,
    nearest_writable,
    search_space,
    searched_model,
)
from aivj.pipeline.errors import StageFailed
from aivj.pipeline.stages import parquet


def _check_configs(ctx) -> list[tuple[str, bool, str]]:
    out = []
    try:
        model = searched_model(ctx.search_config, ctx.train_overrides, ctx.final_dir)
        final = compose_train([*ctx.train_overrides, f"model={model}"], ctx.final_dir)
        out.append(
            (
                "config",
                True,
                f"final run: model {final.model._target_.rsplit('.', 1)[-1]} / "
                f"{final.model.net._target_.rsplit('.', 1)[-1]}, max_epochs {final.trainer.max_epochs}",
            )
        )
    except Exception as exc:  # noqa: BLE001 - any composition error is a failed check, reported in one line
        return [("config", False, f"train.py config does not compose: {str(exc).splitlines()[0]}")]
    try:
        searched = compose_train([f"hparams_search={ctx.search_config}", *ctx.train_overrides], ctx.final_dir)
    except Exception as exc:  # noqa: BLE001
        return out + [("search", False, f"hparams_search={ctx.search_config}: {str(exc).splitlines()[0]}")]
    missing = missing_search_keys(searched)
    sweeper = str(searched.hydra.sweeper.get("_target_", ""))
    if "optuna" not in sweeper.lower():
        out.append(("search", False, f"hparams_search={ctx.search_config} does not select the Optuna sweeper"))
    elif missing:
        out.append(
            ("search", False, f"hparams_search={ctx.search_config}: keys not in this model/data config: {', '.join(missing)}")
        )
    else:
        out.append(
            (
                "search",
                True,
                f"{ctx.trials} trials over {', '.join(search_space(searched))}"
                + (f", timeout {ctx.timeout:.0f}s" if ctx.timeout else ""),
            )
        )
    registry = ctx.registry_dir or Path(str(final.paths.registry_dir))
    for label, folder in (("out", ctx.out), ("registry", registry), *([("data", ctx.data_dir)] if ctx.packs else [])):
        ok, probe = nearest_writable(folder)
        out.append(("folder", ok, f"{label} {folder}" + ("" if ok else f": {probe} is not writable")))
    return out


def _packs_problem(packs) -> str:
    """Why ``aivj ingest`` would find nothing to read in a --packs folder (empty when it would)."""
    from aivj.ingest.sources import SourceError, discover

    for pack in packs:
        try:
            manifests, _ = discover([pack])
        except SourceError as exc:
            return str(exc)
        if not manifests:
            return f"--packs {pack}: no manifest.jsonl, pairs-manifest.v0.json or elite manifest in it"
    return ""


def _check_export_packs(ctx) -> list[tuple[str, bool, str]]:
    from aivj.ingest.packs import read_pack_rows
    from aivj.ingest.sources import SourceError

    out = []
    for pack in getattr(ctx, "export_packs", []) or []:
        try:
            read = read_pack_rows(pack)
            out.append(
                (
                    "export",
                    bool(read.rows),
                    f"--export-pack {pack}: {len(read.rows)} pairs" + (f"; {read.summary()}" if read.set_aside else ""),
                )
            )
        except SourceError as exc:
            out.append(("export", False, f"--export-pack {exc}"))
    return out


def _check_data(ctx) -> tuple[str, bool, str]:

    if ctx.packs:
        problem = _packs_problem(ctx.packs)
        if problem:
            return "data", False, problem
        return "data", True, f"{len(ctx.packs)} pack folder(s) will be ingested into {ctx.data_dir}"
    try:
        return "data", True, parquet(ctx)[0]
    except StageFailed as exc:
        return "data", False, str(exc)


def dry_run(ctx, state: dict | None) -> int:
    checks = _check_configs(ctx)
    if all(ok for _, ok, _ in checks):
        checks.append(_check_data(ctx))
    checks += _check_export_packs(ctx)
    absent = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
    checks.append(
        (
            "export",
            not absent,
            "onnx and onnxruntime import" if not absent else f"missing {', '.join(absent)} (pip install -e '.[export]')",
        )
    )
    finished = list((state or {}).get("stages", {}))
    checks.append(
        (
            "state",
            True,
            f"finished stages that a run would skip: {', '.join(finished)}"
            if finished
            else "no finished stages; a run starts at ingest",
        )
    )
    for name, ok, detail in checks:
        print(f"{name:<8} {'ok' if ok else 'FAIL':<5} {detail}", flush=True)
    failed = sum(not ok for _, ok, _ in checks)
    print("dry run passed: nothing was trained or written" if not failed else f"dry run failed: {failed} check(s)")
    return 1 if failed else 0
