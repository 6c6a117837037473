"""Registry: register_run, the promotion rule, the CLI (list/show/promote/rollback/verify/prune)."""

from __future__ import annotations

import json

import pytest

from aivj.registry import PromotionRules, Registry, decide_promotion, register_run
from aivj.registry.cli import main as registry_cli


def good_metrics(golden=0.99, val=0.80):
    return {"golden/pass_rate": golden, "val/pairwise_acc": val, "val/loss": 0.1}


def make_run(tmp_path, name, metrics, with_histogram=True):
    run = tmp_path / name
    run.mkdir()
    ckpt = run / "best.ckpt"
    ckpt.write_bytes(json.dumps({"name": name}).encode())  # a stand-in: the registry copies bytes
    if with_histogram:
        (run / "pred_histograms.json").write_text(json.dumps({"bins": 4, "by_epoch": {"0": [1, 2, 3, 4], "1": [4, 3, 2, 1]}}))
    (run / "report.md").write_text("# report\n")
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "pairs.parquet").write_bytes(b"rows")
    return run, ckpt, data


@pytest.fixture()
def registry_dir(tmp_path, monkeypatch):
    d = tmp_path / "models"
    monkeypatch.setenv("AIVJ_REGISTRY", str(d))
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")  # hermetic: the project's shipped champion stays out of it
    return d


def test_promotion_rule():
    champ = good_metrics(golden=0.98, val=0.80)
    assert decide_promotion(good_metrics(), None)[0]
    assert not decide_promotion(good_metrics(golden=0.5), None)[0]  # the gate holds without a champion too
    assert decide_promotion(good_metrics(golden=0.999, val=0.81), champ)[0]
    assert not decide_promotion(good_metrics(golden=0.97, val=0.9), champ)[0]  # fails the gate
    assert decide_promotion(good_metrics(golden=0.985, val=0.9), champ)[0]  # the old 1.01 margin refused this
    assert not decide_promotion(good_metrics(golden=0.999, val=0.80), champ)[0]  # validation not better
    assert not decide_promotion(good_metrics(golden=0.999, val=0.79), champ)[0]  # validation worse
    rules = PromotionRules.from_config({"golden_threshold": 0.5, "elite_metric": "elite_acc"})
    assert rules.elite_metric == ("elite_acc",)
    assert decide_promotion({**good_metrics(0.6, val=0.81), "elite_acc": 0.9}, {**good_metrics(0.6), "elite_acc": 0.5}, rules)[0]
    assert not decide_promotion(
        {**good_metrics(0.6, val=0.81), "elite_acc": 0.4}, {**good_metrics(0.6), "elite_acc": 0.5}, rules
    )[0]


def test_register_run_promotes_by_rule_and_records_everything(tmp_path, registry_dir):
    run, ckpt, data = make_run(tmp_path, "run1", good_metrics(golden=0.98))
    v1, promoted, reason = register_run(run, ckpt, {"model": {"_target_": "x.Y"}}, good_metrics(golden=0.98), data)
    assert promoted and reason.startswith("no champion yet")
    reg = Registry()
    assert reg.root == registry_dir and reg.champion() == v1
    meta = reg.meta(v1)
    assert meta["model_class"] == "x.Y" and len(meta["data_hash"]) == 20 and meta["code_version"]
    assert reg.reference_histogram(v1)["counts"] == [4, 3, 2, 1]  # the latest epoch (stand-in ckpt has none)
    assert (reg.path(v1) / "report" / "report.md").exists() and "model.ckpt" in meta["files"]

    run2, ckpt2, _ = make_run(tmp_path, "run2", {})
    v2, promoted, reason = register_run(run2, ckpt2, None, good_metrics(golden=0.985, val=0.80), data)
    assert not promoted and "improves" in reason and reg.champion() == v1
    run3, ckpt3, _ = make_run(tmp_path, "run3", {})
    v3, promoted, _ = register_run(run3, ckpt3, None, good_metrics(golden=1.0, val=0.85), data)
    assert promoted and reg.champion() == v3
    index = json.loads((registry_dir / "registry.json").read_text())
    assert index["champion"] == v3 and [r["version"] for r in index["versions"]] == sorted([v1, v2, v3])
    assert (registry_dir / "versions.csv").read_text().count("\n") == 4


def test_cli_promote_rollback_verify_prune(tmp_path, registry_dir, capsys):
    versions = []
    for i, (golden, val) in enumerate([(0.98, 0.70), (0.90, 0.95), (1.0, 0.80), (0.99, 0.60)]):
        run, ckpt, data = make_run(tmp_path, f"r{i}", {})
        versions.append(register_run(run, ckpt, None, good_metrics(golden, val), data, auto_promote=False)[0])
    reg = Registry()
    assert reg.champion() is None
    assert registry_cli(["promote", versions[1]]) == 1  # no champion, but 0.90 fails the golden gate
    assert registry_cli(["promote", versions[1], "--force"]) == 0
    assert registry_cli(["promote", versions[3]]) == 1  # elite 0.99 vs 0.90*1.01 ok, but val 0.60 < 0.95
    assert registry_cli(["promote", versions[3], "--force"]) == 0 and reg.champion() == versions[3]
    assert registry_cli(["rollback"]) == 0 and reg.champion() == versions[1]
    assert registry_cli(["rollback", versions[2]]) == 0 and reg.champion() == versions[2]
    capsys.readouterr()
    assert registry_cli(["list"]) == 0
    listing = capsys.readouterr().out
    assert f"* {versions[2]}" in listing and listing.count("\n") == 5
    assert registry_cli(["show"]) == 0 and json.loads(capsys.readouterr().out)["meta"]["version"] == versions[2]

    assert registry_cli(["verify"]) == 0
    (reg.path(versions[0]) / "metrics.json").write_text("{}")  # tampering
    assert registry_cli(["verify"]) == 1
    assert "metrics.json: sha256 differs" in capsys.readouterr().err

    assert registry_cli(["prune", "--keep", "1"]) == 0  # best val (versions[1]) + the champion
    assert reg.versions() == sorted([versions[1], versions[2]])
    assert registry_cli(["show", "v1_zzzz"]) == 2


def test_cli_promote_applies_the_project_rule_with_its_required_paths(tmp_path, registry_dir, capsys):
    """A version by hand meets the rule train.py meets: a render-only version is not promoted without --force."""
    run, ckpt, data = make_run(tmp_path, "render_only", {})
    render_only = {**good_metrics(1.0, 0.99), "test_unseen/pairwise_acc": 0.99}
    version = register_run(run, ckpt, None, render_only, data, auto_promote=False)[0]
    assert registry_cli(["promote", version]) == 1
    assert "static" in capsys.readouterr().err
    both = {**render_only, **{f"static/{k}": v for k, v in render_only.items()}}
    run, ckpt, data = make_run(tmp_path, "both_paths", {})
    version = register_run(run, ckpt, None, both, data, auto_promote=False)[0]
    assert registry_cli(["promote", version]) == 0 and Registry().champion() == version
