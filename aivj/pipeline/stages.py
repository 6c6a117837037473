"""The stages of ``aivj pipeline``, one function each: ``stage(ctx) -> (outcome, data)``.

A stage raises ``StageFailed`` with a one-line reason. ``data`` is kept in the state file, so later
stages (and a resumed run) read what earlier ones found. Training runs as ``train.py`` subprocesses
with their output in a log file: a crash there fails the stage, never the pipeline's state.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aivj.pipeline.config import ROOT, compose_train, data_location, searched_model
from aivj.pipeline.errors import StageFailed  # noqa: F401  (stages raise it; callers catch it from here too)
from aivj.pipeline.report import write_pipeline_report
from aivj.pipeline.search import run_search
from aivj.validate import ConfigError, check_dataset


@dataclass
class Context:
    out: Path
    packs: list[Path]
    data_dir: Path | None
    search_config: str
    trials: int
    timeout: float | None
    seed: int
    overrides: list[str]
    golden_threshold: float | None
    registry_dir: Path | None
    export_packs: list[Path]
    progress: bool
    done: dict[str, dict] = field(default_factory=dict)  # stage name -> its recorded data

    @property
    def data_overrides(self) -> list[str]:
        return [] if self.data_dir is None else ["data=aidata", f"data.data_dir={self.data_dir}"]

    @property
    def train_overrides(self) -> list[str]:
        return [*self.data_overrides, *self.overrides]

    @property
    def final_dir(self) -> Path:
        return self.out / "final"


def run_logged(cmd: list[str], log_path: Path) -> int:
    """Run ``cmd`` from the project root with stdout+stderr in ``log_path``; returns the exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as fh:
        return subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT).returncode


def tail(path: Path, n: int = 1) -> str:
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()] if path.exists() else []
    return " | ".join(lines[-n:])


# ----- stages -------------------------------------------------------------------------------------
def ingest(ctx: Context) -> tuple[str, dict]:
    if not ctx.packs:
        return "nothing to ingest (no --packs)", {}
    log = ctx.out / "logs" / "ingest.log"
    rc = run_logged(
        [sys.executable, "-m", "aivj.ingest.cli", *map(str, ctx.packs), "--output", str(ctx.data_dir), "--no-progress"], log
    )
    if rc != 0:
        raise StageFailed(f"aivj ingest exited {rc}: {tail(log)} (log: {log})")
    return tail(log), {"data_dir": str(ctx.data_dir)}


def parquet(ctx: Context) -> tuple[str, dict]:
    """The dataset the training will read: Parquet layout present and every split non-empty."""
    import pyarrow.compute as pc

    from aivj.contract.layout import pairs_dataset, read_presets

    cfg = compose_train(ctx.train_overrides, ctx.final_dir)
    folder, generated = data_location(cfg)
    if generated:
        return f"generated on first use by the data config ({folder})", {"data_dir": str(folder), "generated": True}
    if folder is None or not (folder / "presets.parquet").exists():
        raise StageFailed(
            f"{folder}: no presets.parquet; build it (`aivj ingest PACKS --output DIR`, "
            "`aivj refine build`) or pass --packs / --data-dir"
        )
    try:
        check_dataset(folder)  # a truncated Parquet file is one line here, not a pyarrow traceback
    except ConfigError as exc:
        raise StageFailed(str(exc)) from None
    n_presets = read_presets(folder).num_rows
    split = pairs_dataset(folder).to_table(columns=["split"]).column("split")
    counts = {str(v["values"]): int(v["counts"]) for v in pc.value_counts(split).to_pylist()}
    empty = [s for s in ("train", "val", "golden") if not counts.get(s)]
    if empty:
        raise StageFailed(f"{folder}: split(s) {', '.join(empty)} have no pairs (found {counts})")
    return (
        f"{folder}: {n_presets} presets, {sum(counts.values())} pairs "
        f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})"
    ), {"data_dir": str(folder), "splits": counts}


def search(ctx: Context) -> tuple[str, dict]:
    cfg = compose_train([f"hparams_search={ctx.search_config}", *ctx.train_overrides], ctx.final_dir)
    direction = str(getattr(cfg.hydra.sweeper.direction, "name", cfg.hydra.sweeper.direction))
    return run_search(
        ctx.out / "search", ctx.search_config, ctx.train_overrides, ctx.trials, ctx.timeout, ctx.seed, ctx.progress, direction
    )


def train(ctx: Context) -> tuple[str, dict]:
    model = searched_model(ctx.search_config, ctx.train_overrides, ctx.final_dir)
    best = [f"model={model}", *(f"{k}={v}" for k, v in ctx.done["search"]["best_params"].items())]
    final = ctx.final_dir
    last = final / "checkpoints" / "last.ckpt"
    resume = [f"ckpt_path={last}"] if last.exists() else []  # a killed final run continues where it stopped
    cmd = [
        sys.executable,
        "train.py",
        *ctx.train_overrides,
        *best,
        *resume,
        "registry.enabled=false",
        f"hydra.run.dir={final}",
        "extras.print_config=false",
    ]
    if ctx.registry_dir is not None:
        cmd.append(f"paths.registry_dir={ctx.registry_dir}")
    log = ctx.out / "logs" / "train.log"
    rc = run_logged(cmd, log)
    metrics_path = final / "metrics.json"
    if rc != 0 or not metrics_path.exists():
        raise StageFailed(f"train.py exited {rc}: {tail(log)} (log: {log})")
    saved = json.loads(metrics_path.read_text())
    ckpt = saved.get("best_checkpoint")
    if not ckpt or not Path(ckpt).exists():
        raise StageFailed(f"{metrics_path}: no best checkpoint was saved (see {log})")
    m = saved["metrics"]
    shown = ", ".join(f"{k}={m[k]:.4f}" for k in ("val/pairwise_acc", "test_golden/pass_rate") if m.get(k) is not None)
    return (
        f"{shown}{' (resumed)' if resume else ''}; best {Path(ckpt).name}",
        {"run_dir": str(final), "best_checkpoint": ckpt, "overrides": [*ctx.train_overrides, *best]},
    )


def _rules(ctx: Context):
    from aivj.registry.rules import PromotionRules

    return PromotionRules() if ctx.golden_threshold is None else PromotionRules(golden_threshold=ctx.golden_threshold)


def _final_metrics(ctx: Context) -> dict:
    return json.loads((Path(ctx.done["train"]["run_dir"]) / "metrics.json").read_text())["metrics"]


def gate(ctx: Context) -> tuple[str, dict]:
    from aivj.registry.rules import lookup

    rules, metrics = _rules(ctx), _final_metrics(ctx)
    rate = lookup(metrics, rules.golden_metric)
    if rate is None:
        raise StageFailed(f"none of {list(rules.golden_metric)} in the final run's metrics.json")
    if rate < rules.golden_threshold:
        raise StageFailed(f"golden pass rate {rate:.4f} < {rules.golden_threshold}: not promoted (run: {ctx.final_dir})")
    return f"golden pass rate {rate:.4f} >= {rules.golden_threshold}", {
        "golden_pass_rate": rate,
        "threshold": rules.golden_threshold,
    }


def promote(ctx: Context) -> tuple[str, dict]:
    from omegaconf import OmegaConf, open_dict

    from aivj.registry import Registry, register_run

    registry = Registry(ctx.registry_dir)
    previous = registry.default_champion()  # writable, else shipped
    previous_metrics = registry.metrics(previous) if previous else None
    run_dir = Path(ctx.done["train"]["run_dir"])
    cfg = compose_train(ctx.done["train"]["overrides"], run_dir)  # the final run's config, resolvable here
    with open_dict(cfg):
        del cfg["hydra"]
    config = OmegaConf.to_container(cfg, resolve=True)
    version, promoted, reason = register_run(
        run_dir,
        ctx.done["train"]["best_checkpoint"],
        config,
        _final_metrics(ctx),
        data_dir=ctx.done["parquet"]["data_dir"],
        auto_promote=True,
        registry_dir=registry.root,
        rules=_rules(ctx),
    )
    outcome = f"{version} {'promoted to champion' if promoted else 'kept as candidate'} ({reason}) in {registry.root}"
    return outcome, {
        "version": version,
        "promoted": promoted,
        "registry": str(registry.root),
        "previous_champion": previous,
        "previous_metrics": previous_metrics,
    }


def report(ctx: Context) -> tuple[str, dict]:

    paths = write_pipeline_report(ctx)
    return f"{', '.join(str(p) for p in paths)}", {"files": [str(p) for p in paths]}


def export(ctx: Context) -> tuple[str, dict]:
    version, registry = ctx.done["promote"]["version"], ctx.done["promote"]["registry"]
    onnx_path = ctx.out / "export" / "model.onnx"
    base = [sys.executable, "-m", "aivj.export.cli"]
    jobs = [("onnx", [*base, "onnx", "--model", version, "--registry", registry, "--out", str(onnx_path)])]
    jobs += [
        (f"pairs-quality {p.name}", [*base, "pairs-quality", "--pack", str(p), "--model", version, "--registry", registry])
        for p in ctx.export_packs
    ]
    for name, cmd in jobs:
        log = ctx.out / "logs" / f"export-{name.replace(' ', '-')}.log"
        rc = run_logged(cmd, log)
        if rc != 0:
            raise StageFailed(f"aivj export {name} exited {rc}: {tail(log)} (log: {log})")
    return f"{onnx_path}" + (f" and {len(ctx.export_packs)} pairs-quality file(s)" if ctx.export_packs else ""), {
        "onnx": str(onnx_path)
    }


STAGES = [
    ("ingest", ingest),
    ("parquet", parquet),
    ("search", search),
    ("train", train),
    ("gate", gate),
    ("promote", promote),
    ("report", report),
    ("export", export),
]
