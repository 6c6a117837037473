"""The daemon's parts without training: packs by content hash, journal, views, lock, champion rollback,
failure backoff and alerts, config errors, metrics names and the status page (soak: test_daemon_soak.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyarrow.compute as pc
import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from aivj.contract.layout import pairs_dataset
from aivj.daemon import runner, steps
from aivj.daemon.config import DaemonConfigError, in_window, load_config
from aivj.daemon.journal import DaemonState, Journal, open_run
from aivj.daemon.metrics import DaemonMetrics
from aivj.daemon.scan import FileHashes, SeenPacks, scan
from aivj.daemon.service import AlreadyRunning, Daemon, daemon_lock, lock_holder
from aivj.daemon.status import create_status_app
from aivj.daemon.views import dataset_keys, write_view
from aivj.ingest.convert import convert
from aivj.registry import Registry
from aivj.services.settings import ServiceSettings
from tests.helpers.daemon_packs import elite_pack, planted_pack
from tests.helpers.loopback import Recorder

TINY_TRAIN = ["model=mlp", "model.net.hidden=64", "model.optimizer.lr=0.01", "data.elite_per_batch=12",
              "data.regular_per_batch=24", "logger=csv", "callbacks.model_summary=null", "callbacks.early_stopping=null",
              "callbacks.golden_gate.thresholds.render=0.6", "callbacks.golden_gate.thresholds.static=0.6",
              "callbacks.golden_gate.rollback=false", "callbacks.drift_monitor.rollback=false", "callbacks.golden_pr_curve=null"]  # fmt: skip


def tiny_overrides(root: Path, data_dir: Path) -> list[str]:
    """A daemon config for planted packs: tiny MLP stages and gates a tiny model can pass when it learned the rule."""
    gates = [
        f"gate.{p}.{k}={v}" for p in ("render", "static") for k, v in (("golden_pass_rate", 0.6), ("unseen_pairwise_acc", 0.8))
    ]
    return [f"roots=[{root}]", f"data_dir={data_dir}", "status.port=null", "schedule.settle_seconds=0",
            f"train.overrides=[{','.join(TINY_TRAIN)}]", "train.full_epochs=5", "train.elite_warmup_epochs=0",
            "train.incremental_epochs=3", "gate.drift_max_kl=1.0", *gates]  # fmt: skip


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIVJ_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AIVJ_REGISTRY", str(tmp_path / "home" / "registry"))
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    return tmp_path / "home" / "daemon"


def test_packs_are_new_by_content_not_by_timestamp_and_growing_files_wait(tmp_path):
    planted_pack(tmp_path / "root", "p", 3, seed=1)
    for f in (tmp_path / "root").rglob("*.*"):
        os.utime(f, (time.time() - 120, time.time() - 120))  # written two minutes ago: settled
    hashes, seen = FileHashes(tmp_path / "h.json"), SeenPacks(tmp_path / "seen.json")
    (pack,) = scan([tmp_path / "root"], hashes, settle_seconds=0)
    assert pack.files == 7 and not pack.unstable and seen.is_new(pack)
    seen.record([{"path": pack.path, "digest": pack.digest}], "r1")
    manifest = tmp_path / "root" / "p" / "manifest.jsonl"
    os.utime(manifest, (time.time() - 100, time.time() - 100))  # touched, same bytes
    (touched,) = scan([tmp_path / "root"], FileHashes(tmp_path / "h.json"), settle_seconds=60)
    assert touched.digest == pack.digest and not SeenPacks(tmp_path / "seen.json").is_new(touched)
    manifest.write_text(manifest.read_text() + "\n")
    (changed,) = scan([tmp_path / "root"], hashes, settle_seconds=60)
    assert changed.digest != pack.digest and changed.unstable == [str(manifest)]  # changed just now: still growing


def test_resumed_run_is_the_same_run_and_a_redone_report_counts_once(home):
    journal, resumed = open_run(home)
    journal.begin("ingest")
    again, resumed_again = open_run(home)  # what a daemon restarted after kill -9 finds
    assert not resumed and resumed_again and again.dir == journal.dir and again.doc["in_step"] == "ingest"
    state = DaemonState(home)
    for _ in range(2):
        state.add_run({"run": again.doc["run"], "decision": "failed", "time": 1.0}, keep=10)
    assert state["consecutive_failures"] == 1 and len(state["history"]) == 1


def test_incremental_view_holds_the_new_pairs_and_a_replay_sample(tmp_path):
    planted_pack(tmp_path / "root", "old", 60, seed=1)
    convert([tmp_path / "root"], tmp_path / "data", progress=False)
    old = dataset_keys(tmp_path / "data")
    planted_pack(tmp_path / "root", "new", 40, seed=2)
    convert([tmp_path / "root"], tmp_path / "data", progress=False)
    new = dataset_keys(tmp_path / "data") - old
    counts = write_view(tmp_path / "data", tmp_path / "view", "incremental", new, replay_ratio=0.5)
    train = pairs_dataset(tmp_path / "view").to_table(filter=pc.field("split") == "train")
    packs = train["pack"].to_pylist()
    assert counts["new"] == packs.count("new") > 0 and counts["replayed"] == packs.count("old")
    assert abs(counts["replayed"] - round(0.5 * counts["new"])) <= 1 + counts["elite"]  # + elite pairs topped up when none came
    assert counts["elite_marked_by_score"] and counts["elite"] > 0  # aidata keeps its elite in golden: scored ones stand in
    assert pairs_dataset(tmp_path / "view").count_rows() == pairs_dataset(tmp_path / "data").count_rows()


def test_lock_refuses_a_second_daemon_and_names_the_holder(home):
    with daemon_lock(home):
        assert lock_holder(home) == os.getpid()
        with pytest.raises(AlreadyRunning, match=str(os.getpid())):
            with daemon_lock(home):
                pass
    assert lock_holder(home) is None


def test_broken_champion_is_rolled_back_to_the_last_good_one(home, tmp_path):
    from aivj.daemon.champion import ensure_valid_champion

    reg = Registry(shipped=None)
    versions = []
    for i in range(2):
        ckpt = tmp_path / f"m{i}.ckpt"
        ckpt.write_bytes(os.urandom(64))
        versions.append(reg.add_version(ckpt, {"metrics.json": "{}"}, {"data_hash": "d"}))
        reg.set_champion(versions[-1], "test")
    (reg.path(versions[1]) / "model.ckpt").write_bytes(b"torn")
    result = ensure_valid_champion(None)
    assert result["champion"] == versions[0] == reg.champion()
    assert result["rolled_back"]["from"] == versions[1] and "sha256" in result["rolled_back"]["why"]
    assert ensure_valid_champion(None)["rolled_back"] is None


def test_corrupt_state_and_journal_are_moved_aside_named_and_alerted_once(home, tmp_path):
    (tmp_path / "root").mkdir()
    journal, _ = open_run(home)  # a run in progress whose journal is then damaged, like state.json
    home.joinpath("state.json").write_bytes(b"\xff{not json")
    journal.path.write_text("[1, 2]")
    with Recorder() as hook:
        cfg = load_config([*tiny_overrides(tmp_path / "root", tmp_path / "data"), f"notify.webhook.url={hook.url}"])
        daemon = Daemon(cfg)
        report = daemon.tick()
        daemon.tick()  # the notes are alerted once
    titles = [body["title"] for _, body in hook.posts]
    assert report["run"] == journal.doc["run"] and hook.events()[:2] == ["recovered", "recovered"]
    for name, path in (("state.json", home / "state.json"), ("journal.json", journal.path)):
        note = next(t for t in titles if t.startswith(f"{path}: corrupt"))
        assert "\n" not in note and "moved aside to " + name + ".corrupt-" in note
        assert len(list(path.parent.glob(name + ".corrupt-*"))) == 1 and json.loads(path.read_text())
    assert sum(t.endswith("going on from a clean one") for t in titles) == 2
    assert DaemonState(home)["set_aside"] is None and DaemonState(home)["last_run"] is not None


def test_failing_runs_back_off_and_alert_after_three(home, tmp_path, monkeypatch):
    planted_pack(tmp_path / "root", "p", 12, seed=1)
    elite_pack(tmp_path / "root", 4)

    def broken_train(ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner, "STEPS", [(n, broken_train if n == "train" else f) for n, f in runner.STEPS])
    with Recorder() as hook:
        cfg = load_config([*tiny_overrides(tmp_path / "root", tmp_path / "data"), f"notify.webhook.url={hook.url}"])
        daemon = Daemon(cfg)
        reports = [daemon.tick(force_full=True) for _ in range(3)]
        assert daemon.tick() is None  # backing off
    assert [r["decision"] for r in reports] == ["failed"] * 3 and "disk on fire" in reports[0]["reasons"][0]
    assert hook.events() == ["failed"] and "3 runs in a row" in hook.posts[0][1]["title"]
    state = DaemonState(home)
    assert state["consecutive_failures"] == 3 and state["next_run_after"] > time.time() + 60
    assert reports[0]["came_in"]["pairs_added"] == 16 and reports[1]["came_in"]["pairs_added"] == 0  # ingested once
    assert json.loads((home / "runs" / reports[2]["run"] / "report.json").read_text())["decision"] == "failed"


def test_config_errors_are_one_line_naming_the_key(tmp_path):
    with pytest.raises(DaemonConfigError, match=r"schedule.window='25:00-26:00': must be HH:MM-HH:MM"):
        load_config(["schedule.window=25:00-26:00"])
    with pytest.raises(DaemonConfigError, match="roots: no such folder"):
        load_config([f"roots=[{tmp_path / 'nope'}]"])
    assert in_window("22:00-06:00", 23, 30) and in_window("22:00-06:00", 5, 59) and not in_window("22:00-06:00", 12, 0)


def test_metrics_carry_the_agreed_names():
    m = DaemonMetrics()
    m.publish_gate({"golden/pass_rate": 0.9, "static/fast/mae": 0.3}, {"render": 0.05}, ["render", "static"], "v1_abcd")
    m.finish_run("rejected", 0, 123.0)
    text = generate_latest(m.registry).decode()
    for name in ("aivj_daemon_state{", "aivj_daemon_last_decision{", 'aivj_daemon_runs_total{decision="rejected"} 1.0',
                 "aivj_daemon_consecutive_failures", "aivj_daemon_last_run_timestamp_seconds 123.0",
                 "aivj_daemon_heartbeat_timestamp_seconds", "aivj_training_progress_ratio", "aivj_training_epoch",
                 'aivj_golden_pass_rate{path="render"} 0.9', 'aivj_fast_set_metric{metric="mae",path="static"} 0.3',
                 'aivj_candidate_drift_kl{path="render"} 0.05', 'aivj_daemon_champion_info{version="v1_abcd"} 1.0'):  # fmt: skip
        assert name in text, name
    # The rollback rules join gate figures with aivj_champion_info: none of the daemon's may fire them.
    assert "aivj_drift_kl" not in text and "aivj_champion_info" not in text


def test_status_page_shows_state_and_reports(home):
    journal = Journal(home / "runs" / "r1")
    journal.finish("scan", {})
    (home / "runs" / "r1" / "report.json").write_text(json.dumps({"run": "r1", "decision": "skipped"}))
    DaemonState(home).add_run({"run": "r1", "decision": "skipped", "reasons": ["nothing new"], "time": 1.0}, 10)
    app = create_status_app(home, settings=ServiceSettings(name="daemon", require_api_key=False, data_dir=home / "svc"))
    client = TestClient(app)
    status = client.get("/status").json()
    assert status["last_runs"][0]["decision"] == "skipped" and status["running_pid"] is None
    assert client.get("/runs/r1").json()["decision"] == "skipped" and client.get("/runs/r2").status_code == 404
    assert "nothing new" in client.get("/").text and client.get("/health").status_code == 200


def test_promotion_redone_after_a_kill_registers_once(home, tmp_path):
    from aivj.daemon.champion import register_and_promote

    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text("model:\n  _target_: coupling.module.CouplingLitModule\n")
    (run / "metrics.json").write_text(json.dumps({"metrics": {"val/pairwise_acc": 0.9}}))
    (run / "best.ckpt").write_bytes(os.urandom(64))
    first = register_and_promote(None, run, str(run / "best.ckpt"), tmp_path, {"golden/pass_rate": 0.99}, True, "test")
    again = register_and_promote(None, run, str(run / "best.ckpt"), tmp_path, {"golden/pass_rate": 0.99}, True, "test")
    reg = Registry(shipped=None)
    assert first["version"] == again["version"] == reg.champion() and len(reg.versions()) == 1
    assert len(reg.history()) == 1 and reg.metrics(first["version"])["golden/pass_rate"] == 0.99


def test_resources_pause_with_one_alert_per_reason(home, tmp_path):
    with Recorder() as hook:
        cfg = load_config([*tiny_overrides(tmp_path, tmp_path / "data"), f"notify.webhook.url={hook.url}",
                           "resources.max_memory_percent=0"])  # fmt: skip
        daemon = Daemon(cfg)
        assert daemon.tick() is None and daemon.tick() is None
    assert hook.events() == ["paused"] and "memory" in DaemonState(home)["paused"]
    assert not (home / "runs").exists()  # paused before any run started


def test_plateau_skips_training_until_more_data(home, tmp_path):
    planted_pack(tmp_path / "root", "p", 12, seed=1)
    cfg = load_config(tiny_overrides(tmp_path / "root", tmp_path / "data"))
    DaemonState(home).update(history=[{"run": f"r{i}", "decision": "rejected", "val_gain": 0.001} for i in range(3)])
    reg = Registry(shipped=None)
    ckpt = tmp_path / "m.ckpt"
    ckpt.write_bytes(os.urandom(64))
    reg.set_champion(reg.add_version(ckpt, {"metrics.json": "{}"}, {"data_hash": "d"}), "test")
    report = Daemon(cfg).tick()
    assert report["decision"] == "skipped" and report["reasons"][0].startswith("plateau: the last 3 runs improved < 0.005")
    assert report["came_in"]["pairs_added"] == 12  # the data still came in; it waits for training


def test_incremental_stages_chain_their_weights_and_a_done_stage_is_not_rerun(home, tmp_path, monkeypatch):
    planted_pack(tmp_path / "root", "p", 40, seed=1)
    convert([tmp_path / "root"], tmp_path / "data", progress=False)
    reg = Registry(shipped=None)
    ckpt = tmp_path / "champ.ckpt"
    ckpt.write_bytes(os.urandom(64))
    champion = reg.add_version(ckpt, {"metrics.json": "{}"}, {"data_hash": "d"})
    cfg = load_config([*tiny_overrides(tmp_path / "root", tmp_path / "data"), "train.elite_warmup_epochs=1"])
    journal, _ = open_run(home)
    journal.finish("select", {"full": False, "champion": champion})
    (journal.dir / "new_keys.json").write_text(json.dumps([["p", i] for i in range(10)]))
    commands = []

    def fake_stage(cmd, out, timeout, on_epoch):
        commands.append(cmd)
        if len(commands) == 2:
            raise RuntimeError("killed")  # the incremental stage dies: the elite one stays done
        on_epoch(1)
        return {"checkpoint": str(out / "best.ckpt"), "metrics": {}, "seconds": 1.0}

    monkeypatch.setattr(steps, "run_stage", fake_stage)
    ctx = steps.Context(cfg, home, tmp_path / "data", None, journal, DaemonState(home), DaemonMetrics())
    with pytest.raises(RuntimeError):
        steps.step_train(ctx)
    result = steps.step_train(ctx)
    elite, incremental, again = commands
    assert f"init_from={reg.checkpoint(champion)}" in elite and "trainer.max_epochs=1" in elite
    assert f"init_from={journal.dir / 'train' / 'elite' / 'best.ckpt'}" in incremental and again == incremental
    assert [s["stage"] for s in result["stages"]] == ["elite", "incremental"] and result["stages"][1]["view"]["new"] > 0
