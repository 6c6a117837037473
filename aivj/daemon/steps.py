"""The steps of one daemon run, in order: scan, ingest, select, train, gate, promote (report: aivj.daemon.report).

``step(ctx) -> dict``: what the journal records for it; a later step (or the same run resumed after a
kill) reads earlier steps' records from ``ctx.journal``. A step raises ``StepFailed`` with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from aivj.contract.atomic import write_json_atomic
from aivj.daemon.config import in_window
from aivj.daemon.journal import DaemonState, Journal
from aivj.daemon.scan import FileHashes, SeenPacks, scan
from aivj.daemon.training import StepFailed, plan_stages, prepare_view, run_stage, stage_command
from aivj.daemon.views import dataset_keys


@dataclass
class Context:
    cfg: DictConfig
    home: Path
    data_dir: Path
    registry_dir: Path | None
    journal: Journal
    state: DaemonState
    metrics: object  # DaemonMetrics
    force_full: bool = False
    clock_hm: tuple[int, int] | None = None  # local (hour, minute) for the window check; None: now

    def rec(self, step: str) -> dict:
        return self.journal.done(step) or {}


def _keys_file(home: Path) -> Path:
    return home / "trained_keys.json"


def trained_keys(home: Path) -> set:
    path = _keys_file(home)
    return {tuple(k) for k in json.loads(path.read_text())} if path.is_file() else set()


def save_trained_keys(home: Path, keys) -> None:
    write_json_atomic(sorted([list(k) for k in keys]), _keys_file(home))


def step_scan(ctx: Context) -> dict:
    hashes, seen = FileHashes(ctx.home / "file_hashes.json"), SeenPacks(ctx.home / "seen_packs.json")
    packs = scan([Path(str(r)) for r in ctx.cfg.roots], hashes, float(ctx.cfg.schedule.settle_seconds))
    on_disk = {p.path for p in packs}
    new = [{"path": p.path, "digest": p.digest, "files": p.files} for p in packs if seen.is_new(p) and not p.unstable]
    waiting = sorted(p.path for p in packs if p.unstable)
    vanished = sorted(set(seen.packs) - on_disk)
    # An ingested pack that is being rewritten or is gone would lose its pairs in a rebuild: wait for it.
    blocked = [p for p in waiting if p in seen.packs] + vanished
    return {
        "packs": len(packs),
        "new": new,
        "waiting": waiting,
        "blocked": blocked,
        "inputs": sorted(p.path for p in packs if not p.unstable),
        "ingest": bool(new) and not blocked,
        "pairs_before": len(dataset_keys(ctx.data_dir)),
    }


def step_ingest(ctx: Context) -> dict:
    from aivj.ingest.convert import ConvertError, convert
    from aivj.ingest.sources import SourceError

    scanned = ctx.rec("scan")
    if not scanned["ingest"]:
        return {"ingested": False, "pairs_after": scanned["pairs_before"], "pairs_added": 0}
    ctx.metrics.set_state("ingesting")
    try:
        summary = convert([Path(p) for p in scanned["inputs"]], ctx.data_dir, progress=False).summary
    except (ConvertError, SourceError, OSError) as exc:
        raise StepFailed(f"aivj ingest into {ctx.data_dir}: {str(exc).splitlines()[0]}") from None
    SeenPacks(ctx.home / "seen_packs.json").record(scanned["new"], ctx.journal.doc["run"])
    after = len(dataset_keys(ctx.data_dir))
    return {
        "ingested": True,
        "rows_in": summary["rows_in"],
        "rows_written": summary["rows_written"],
        "rows_quarantined": summary["rows_quarantined"],
        "quarantine_reasons": summary["quarantine_reasons"],
        "pairs_after": after,
        "pairs_added": after - scanned["pairs_before"],  # against the count taken before this step: redo-proof
    }


def _plateau(ctx: Context) -> bool:
    trained = [h for h in ctx.state["history"] if h.get("val_gain") is not None]
    n, gain = int(ctx.cfg.train.plateau_runs), float(ctx.cfg.train.plateau_gain)
    return n > 0 and len(trained) >= n and all(h["val_gain"] < gain for h in trained[-n:])


def step_select(ctx: Context) -> dict:
    """Roll a broken champion back, then decide: skip, full retrain or incremental (and why)."""
    from aivj.daemon.champion import ensure_valid_champion

    rollback = ensure_valid_champion(ctx.registry_dir)
    champion = rollback["champion"]
    if not (ctx.data_dir / "pairs").is_dir():
        return {"train": False, "why": "no dataset yet (nothing ingested)", **rollback}
    keys = dataset_keys(ctx.data_dir)
    new = keys - trained_keys(ctx.home)
    write_json_atomic(sorted([list(k) for k in new]), ctx.journal.dir / "new_keys.json")
    last_full = ctx.state["last_full_pairs"] or 0
    grown = last_full > 0 and len(keys) >= float(ctx.cfg.train.full_retrain_growth) * last_full
    full = ctx.force_full or champion is None or grown
    base = {"pairs": len(keys), "new_pairs": len(new), "full": full, "champion": champion, **rollback}
    hm = ctx.clock_hm or _now_hm()
    if not new and not ctx.force_full:
        return {**base, "train": False, "why": "nothing new since the last trained run"}
    if not in_window(ctx.cfg.schedule.window, *hm):
        return {**base, "train": False, "why": f"outside the training window {ctx.cfg.schedule.window}"}
    if not full and _plateau(ctx):
        return {
            **base,
            "train": False,
            "why": f"plateau: the last {ctx.cfg.train.plateau_runs} runs improved < {ctx.cfg.train.plateau_gain}",
        }
    why = "on demand" if ctx.force_full else "no champion" if champion is None else "data grew" if grown else ""
    return {**base, "train": True, "why": f"full retrain ({why})" if full else f"{len(new)} new pairs"}


def _now_hm() -> tuple[int, int]:
    import time

    t = time.localtime()
    return t.tm_hour, t.tm_min


def step_train(ctx: Context) -> dict:
    from aivj.registry import Registry

    sel = ctx.rec("select")
    ctx.metrics.set_state("training")
    stages = plan_stages(ctx.cfg, sel["full"])
    new = {tuple(k) for k in json.loads((ctx.journal.dir / "new_keys.json").read_text())}
    init = None if sel["full"] else str(Registry(ctx.registry_dir).checkpoint(sel["champion"]))
    results = []
    for i, stage in enumerate(stages):
        done = ctx.journal.done(f"train:{stage['name']}")
        if done is None:
            view, counts = prepare_view(ctx.data_dir, ctx.journal.dir, stage, new, float(ctx.cfg.train.replay_ratio), i)
            out = ctx.journal.dir / "train" / stage["name"]
            cmd = stage_command(ctx.cfg, stage, view, out, init if stage["warm"] else None, ctx.registry_dir)
            epochs = stage["epochs"] or 1

            def on_epoch(n: int, i=i, epochs=epochs) -> None:
                ctx.metrics.epoch.set(n)
                ctx.metrics.progress.set(min((i + min(n / epochs, 1.0)) / len(stages), 1.0))

            result = run_stage(cmd, out, float(ctx.cfg.train.timeout_seconds), on_epoch)
            done = ctx.journal.finish(f"train:{stage['name']}", {**result, "view": counts, "run_dir": str(out)})
        init = done["checkpoint"]  # the next stage starts from this one's weights
        results.append({"stage": stage["name"], **{k: done[k] for k in ("checkpoint", "view", "seconds", "run_dir")}})
    ctx.metrics.progress.set(1.0)
    return {"checkpoint": init, "stages": results, "run_dir": results[-1]["run_dir"], "full": sel["full"]}


def step_gate(ctx: Context) -> dict:
    from aivj.daemon.gate import judge

    ctx.metrics.set_state("gating")
    sel, trained = ctx.rec("select"), ctx.rec("train")
    return judge(ctx.cfg.gate, trained["checkpoint"], sel["champion"], ctx.data_dir, ctx.registry_dir)
