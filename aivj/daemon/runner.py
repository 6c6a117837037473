"""One daemon run from start (or resume) to report: the steps of aivj.daemon.steps under a journal."""

from __future__ import annotations

import logging
from pathlib import Path

from aivj.daemon import steps as S
from aivj.daemon.champion import register_and_promote
from aivj.daemon.journal import DaemonState, close_run, open_run, prune_runs
from aivj.daemon.notify import Dispatcher, Message
from aivj.daemon.report import build_report, write_report

log = logging.getLogger("aivj.daemon")
HISTORY_KEEP = 200


def step_promote(ctx: S.Context) -> dict:
    ctx.metrics.set_state("promoting")
    gate, trained = ctx.rec("gate"), ctx.rec("train")
    reason = f"daemon run {ctx.journal.doc['run']}: {gate['rule']}"
    return register_and_promote(ctx.registry_dir, Path(trained["run_dir"]), trained["checkpoint"], ctx.data_dir,
                                gate["candidate"], gate["promote"], reason)  # fmt: skip


STEPS = [("scan", S.step_scan), ("ingest", S.step_ingest), ("select", S.step_select), ("train", S.step_train),
         ("gate", S.step_gate), ("promote", step_promote)]  # fmt: skip


def run_once(cfg, home: Path, data_dir: Path, registry_dir, metrics, dispatcher: Dispatcher, force_full: bool = False,
             clock_hm=None) -> dict:  # fmt: skip
    journal, resumed = open_run(home)
    state = DaemonState(home)
    ctx = S.Context(
        cfg, home, data_dir, registry_dir, journal, state, metrics, force_full or bool(journal.doc.get("force_full")), clock_hm
    )
    journal.note(force_full=ctx.force_full)
    events = []
    for note in journal.doc.pop("set_aside", []) + state.take_set_aside():  # corrupt files moved aside (journal.py)
        events += dispatcher.send(Message("recovered", note, run=journal.doc["run"]))
    if resumed:
        where = journal.doc.get("in_step") or "between steps"
        events += dispatcher.send(
            Message("recovered", f"run {journal.doc['run']} resumed after an interruption ({where})", run=journal.doc["run"])
        )
    decision, reasons = None, []
    try:
        for name, fn in STEPS:
            if journal.done(name) is None:
                journal.begin(name)
                journal.finish(name, fn(ctx))
            if name == "select" and not journal.done("select")["train"]:
                rb = journal.done("select").get("rolled_back")
                decision, reasons = ("rolled_back" if rb else "skipped"), [journal.done("select")["why"]]
                break
        if decision is None:
            gate = journal.done("gate")
            decision = "promoted" if gate["promote"] else "rejected"
            reasons = [gate["rule"]] if gate["promote"] else gate["reasons"]
    except Exception as exc:  # noqa: BLE001 - any step's failure closes the run as failed, with its one line
        if isinstance(exc, KeyboardInterrupt):
            raise
        decision, reasons = (
            "failed",
            [f"{journal.doc.get('in_step')}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"],
        )
        log.exception("daemon run %s failed", journal.doc["run"])
    return _finish(ctx, decision, reasons, events, dispatcher)


def _finish(ctx: S.Context, decision: str, reasons: list[str], events: list, dispatcher: Dispatcher) -> dict:
    journal, state, cfg = ctx.journal, ctx.state, ctx.cfg
    sel, gate = ctx.rec("select"), ctx.rec("gate")
    if sel.get("rolled_back"):
        rb = sel["rolled_back"]
        events += dispatcher.send(
            Message("rolled_back", f"champion rolled back {rb['from']} -> {rb['to']}", [rb["why"]], journal.doc["run"])
        )
    if decision in ("promoted", "rejected"):
        S.save_trained_keys(ctx.home, S.dataset_keys(ctx.data_dir))  # judged: not trained again
    report = build_report(journal, decision, reasons, events)
    if decision in ("promoted", "rejected"):  # a failed run alerts once failures repeat (below)
        title = {"promoted": "new champion", "rejected": "candidate rejected, champion kept", "failed": "run failed"}.get(
            decision, decision
        )
        version = journal.done("promote") or {}
        message = Message(decision, f"{title}: {version.get('version') or journal.doc['run']}", reasons, journal.doc["run"],
                          {"came_in": report["came_in"], "figures": report["figures"]})  # fmt: skip
        report["events"] = events + dispatcher.send(message)
    write_report(journal.dir, report)
    val_gain = _val_gain(gate) if decision in ("promoted", "rejected") else None
    entry = {"run": journal.doc["run"], "decision": decision, "reasons": reasons, "time": report["finished"],
             "pairs_added": report["came_in"].get("pairs_added") or 0, "version": report["version"], "val_gain": val_gain}  # fmt: skip
    state.add_run(entry, HISTORY_KEEP)
    if decision in ("promoted", "rejected") and ctx.rec("select").get("full"):
        state.update(last_full_pairs=ctx.rec("select")["pairs"])
    if decision == "failed" and state["consecutive_failures"] >= int(cfg.failures.alert_after):
        n = state["consecutive_failures"]
        report["events"] += dispatcher.send(Message("failed", f"{n} runs in a row failed", reasons, journal.doc["run"]))
    if gate:
        champion_figures = gate["candidate"] if decision == "promoted" else gate["champion"]
        ctx.metrics.publish_gate(champion_figures, gate.get("drift_kl", {}), cfg.gate.paths, report["champion_after"])
    ctx.metrics.finish_run(decision, state["consecutive_failures"], report["finished"])
    close_run(ctx.home)
    prune_runs(ctx.home, int(cfg.reports.keep))
    ctx.metrics.set_state("idle")
    return report


def _val_gain(gate: dict) -> float | None:
    cand, champ = gate.get("candidate") or {}, gate.get("champion") or {}
    if cand.get("val/pairwise_acc") is None or champ.get("val/pairwise_acc") is None:
        return None
    return round(cand["val/pairwise_acc"] - champ["val/pairwise_acc"], 6)
