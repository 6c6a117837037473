"""One command from packs to an exported model (also ``aivj pipeline``):

    ingest new packs -> Parquet check -> budgeted Optuna search -> final training with the best
    parameters -> golden gate -> registry promotion -> report -> export

    aivj pipeline --packs /mnt/d/aidata --trials 30 --timeout 7200
    aivj pipeline --dry-run           checks data, configs, folders; trains nothing

Everything goes to ``--out`` (default $AIVJ_HOME/runs/pipeline). ``pipeline_state.json`` there records each
finished stage (written atomically after the stage); a re-run skips finished stages, so a killed
pipeline resumes at the stage it was in. ``--restart`` forgets the state. Exit codes: 0 done (or dry
run passed), 1 a stage or check failed, 2 bad arguments. docs/training.md describes the stages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from aivj.contract.atomic import write_json_atomic
from aivj.home import state_dir
from aivj.pipeline import stages
from aivj.pipeline.config import ROOT
from aivj.pipeline.dry_run import dry_run
from aivj.pipeline.errors import StageFailed

STATE_FILE = "pipeline_state.json"
STATE_VERSION = 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivj pipeline", description=__doc__.splitlines()[0])
    p.add_argument("--packs", nargs="*", type=Path, default=[], help="aidata packs to ingest first (aivj ingest)")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="converted dataset (default with --packs: data/aidata; else the config's data)",
    )
    p.add_argument(
        "--out", type=Path, default=state_dir("runs") / "pipeline", help="pipeline folder (default $AIVJ_HOME/runs/pipeline)"
    )
    p.add_argument("--search", default="coupling_optuna", help="conf/hparams_search config (default coupling_optuna)")
    p.add_argument("--trials", type=int, default=20, help="completed search trials to reach (default 20)")
    p.add_argument("--timeout", type=float, default=None, help="seconds after which no new trial starts")
    p.add_argument("--seed", type=int, default=1234, help="sampler seed (default 1234)")
    p.add_argument("--experiment", default="full", help="experiment config for search and final run ('none': no)")
    p.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra train.py override for search and final run (repeatable)",
    )
    p.add_argument("--golden-threshold", type=float, default=None, help="gate threshold (default: registry rule)")
    p.add_argument("--registry", type=Path, default=None, help="registry folder (default $AIVJ_REGISTRY or models/)")
    p.add_argument("--export-pack", action="append", type=Path, default=[], help="also write pairs-quality for PACK")
    p.add_argument("--dry-run", action="store_true", help="check data, configs and folders; train nothing")
    p.add_argument("--restart", action="store_true", help="ignore finished stages in the state file")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def make_context(args):
    data_dir = args.data_dir or (ROOT / "data" / "aidata" if args.packs else None)
    overrides = ([] if args.experiment in ("none", "") else [f"experiment={args.experiment}"]) + list(args.override)
    return stages.Context(
        out=args.out.resolve(),
        packs=[p.resolve() for p in args.packs],
        data_dir=data_dir.resolve() if data_dir else None,
        search_config=args.search,
        trials=args.trials,
        timeout=args.timeout,
        seed=args.seed,
        overrides=overrides,
        golden_threshold=args.golden_threshold,
        registry_dir=args.registry.resolve() if args.registry else None,
        export_packs=[p.resolve() for p in args.export_pack],
        progress=not args.no_progress,
    )


def load_state(path: Path) -> dict:
    if not path.exists():
        return {"version": STATE_VERSION, "stages": {}}
    try:
        state = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"{path}: unreadable pipeline state ({exc}); fix it or pass --restart") from None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or not isinstance(state.get("stages"), dict):
        raise SystemExit(f"{path}: not a version-{STATE_VERSION} pipeline state; pass --restart to start over")
    return state


def stage_line(i: int, n: int, name: str, status: str, seconds: float, outcome: str) -> str:
    return f"[{i}/{n}] {name:<8} {status:<8} {seconds:7.1f}s  {outcome}"


def run(args) -> int:
    ctx = make_context(args)
    state_path = ctx.out / STATE_FILE
    state = {"version": STATE_VERSION, "stages": {}} if args.restart else load_state(state_path)
    state["args"] = {
        k: [str(x) for x in v] if isinstance(v, list) else v if isinstance(v, (int, float, bool, type(None))) else str(v)
        for k, v in vars(args).items()
    }
    ctx.out.mkdir(parents=True, exist_ok=True)
    n = len(stages.STAGES)
    with Progress(
        TextColumn("pipeline"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        disable=ctx.progress is False,
    ) as bar:
        task = bar.add_task("", total=n)
        for i, (name, fn) in enumerate(stages.STAGES, 1):
            bar.update(task, description=name)
            if name in state["stages"]:
                ctx.done[name] = state["stages"][name]
                print(stage_line(i, n, name, "skipped", 0.0, f"done earlier: {ctx.done[name]['outcome']}"), flush=True)
                bar.advance(task)
                continue
            start = time.monotonic()
            try:
                outcome, data = fn(ctx)
            except StageFailed as exc:
                print(stage_line(i, n, name, "FAILED", time.monotonic() - start, str(exc)), flush=True)
                return 1
            seconds = time.monotonic() - start
            record = {**data, "outcome": outcome, "seconds": round(seconds, 2), "finished_at": time.time()}
            ctx.done[name] = state["stages"][name] = record
            write_json_atomic(state, state_path)  # the stage counts as done only once this is on disk
            print(stage_line(i, n, name, "done", seconds, outcome), flush=True)
            bar.advance(task)
    print(f"pipeline finished: {ctx.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.trials < 1 or (args.timeout is not None and args.timeout <= 0):
        print("aivj pipeline: --trials must be >= 1 and --timeout > 0", file=sys.stderr)
        return 2
    missing = [str(p) for p in [*args.packs, *args.export_pack] if not p.exists()]
    if missing:
        print(f"aivj pipeline: no such pack folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.dry_run:
        return dry_run(make_context(args), load_state(args.out.resolve() / STATE_FILE) if not args.restart else None)
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
