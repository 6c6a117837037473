"""Where the registry lives: outside the source tree, the shipped champion read-only in models/, one
champion per data fingerprint, ``ship``; and one-line errors for broken pointers, metrics and --dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aivj.registry import Registry, register_run
from aivj.registry.cli import main as registry_cli
from aivj.registry.store import default_registry_dir, project_root

ROOT = Path(__file__).resolve().parents[1]


def metrics(golden=0.99, val=0.80):
    return {"golden/pass_rate": golden, "val/pairwise_acc": val}


def run(tmp_path, name, data_name):
    folder = tmp_path / "runs" / name
    folder.mkdir(parents=True)
    ckpt = folder / "best.ckpt"
    ckpt.write_bytes(b"checkpoint " + name.encode() * 100)
    data = tmp_path / data_name
    data.mkdir(exist_ok=True)
    (data / "_summary.json").write_text(json.dumps({"dataset": data_name}))
    return folder, ckpt, data


def add(tmp_path, name, data_name, m, **kw):
    folder, ckpt, data = run(tmp_path, name, data_name)
    return register_run(folder, ckpt, None, m, data, **kw)


@pytest.fixture()
def dirs(tmp_path, monkeypatch):
    """A writable registry and a shipped folder, both temporary."""
    monkeypatch.setenv("AIVJ_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", str(tmp_path / "shipped"))
    return tmp_path / "registry", tmp_path / "shipped"


def test_default_location_is_outside_the_source_tree(monkeypatch, tmp_path):
    monkeypatch.delenv("AIVJ_REGISTRY", raising=False)
    monkeypatch.delenv("AIVJ_HOME", raising=False)
    assert default_registry_dir() == project_root() / "var" / "registry"
    monkeypatch.setenv("AIVJ_HOME", str(tmp_path))
    assert default_registry_dir() == tmp_path / "registry"
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/registry/champion"], cwd=ROOT)
    assert ignored.returncode == 0


def test_fingerprints_never_compete_and_the_shipped_champion_is_the_fallback(dirs, tmp_path, monkeypatch):
    writable, shipped = dirs
    real = add(tmp_path, "real", "real_data", metrics(0.99, 0.80))
    from aivj.registry.ship import ship

    ship(real[0], Registry())
    monkeypatch.setenv("AIVJ_REGISTRY", str(tmp_path / "fresh"))  # a fresh clone: models/ only
    reg = Registry()
    assert reg.champion() is None and reg.default_champion() == real[0] and reg.meta(real[0])["data_fingerprint"]
    # A smoke run on other data with better figures is champion of its own fingerprint only.
    smoke, promoted, reason = add(tmp_path, "smoke", "synthetic", metrics(1.0, 0.99))
    assert promoted and "first champion of data fingerprint" in reason
    assert reg.default_champion() == real[0] and reg.champion_for(reg.fingerprint(smoke)) == smoke
    # A worse run on the real data is compared with the shipped champion, and loses.
    worse, promoted, reason = add(tmp_path, "real2", "real_data", metrics(0.99, 0.70))
    assert reg.fingerprint(worse) == reg.fingerprint(real[0]) and not promoted and "champion" in reason
    # A better one becomes the default champion of the writable registry; models/ is untouched.
    before = sorted(p.name for p in shipped.iterdir())
    better, promoted, _ = add(tmp_path, "real3", "real_data", metrics(1.0, 0.95))
    assert promoted and reg.default_champion() == better and reg.shipped_champion() == real[0]
    assert sorted(p.name for p in shipped.iterdir()) == before
    # prune keeps every fingerprint's champion, not only the default one
    assert registry_cli(["prune", "--keep", "0"]) == 0
    assert reg.versions() == sorted([smoke, better]) and reg.champion_for(reg.fingerprint(smoke)) == smoke


def test_runs_cannot_write_into_the_shipped_folder(dirs, tmp_path, monkeypatch):
    _, shipped = dirs
    shipped.mkdir()
    folder, ckpt, data = run(tmp_path, "r", "d")
    with pytest.raises(Exception, match="read-only to runs"):
        register_run(folder, ckpt, None, metrics(), data, registry_dir=shipped)
    assert not any(shipped.iterdir())


def test_ship_is_atomic_and_keeps_the_previous_one(dirs, tmp_path, capsys):
    writable, shipped = dirs
    first = add(tmp_path, "a", "d", metrics(0.99, 0.8))[0]
    assert registry_cli(["ship", first]) == 0
    second = add(tmp_path, "b", "d", metrics(1.0, 0.9))[0]
    Registry().remove(first)  # only in models/ now
    assert registry_cli(["ship", second]) == 0
    assert (shipped / "champion").read_text().strip() == second
    assert Registry(shipped, shipped=None).versions() == [second]
    assert (writable / first / "model.ckpt").is_file()  # the previous shipped version went back to the registry
    assert not [p for p in shipped.iterdir() if p.name.startswith(".incoming") or p.name.startswith(".trash")]
    assert registry_cli(["--dir", str(shipped), "verify"]) == 0


@pytest.mark.parametrize("garbage", [b"\xff\xfe\x00\x01binary", b"not a version\n", b"v1_abcd\n"])
def test_broken_pointer_is_one_line_in_every_command(dirs, tmp_path, capsys, garbage):
    writable, _ = dirs
    version = add(tmp_path, "a", "d", metrics())[0]
    pointer = writable / "champion"
    pointer.write_bytes(garbage)
    capsys.readouterr()
    for cmd, code in ((["list"], 2), (["show"], 2), (["verify"], 1), (["promote", version], 2), (["rollback"], 2)):
        assert registry_cli(cmd) == code, cmd
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(pointer) in err[0] and "Traceback" not in err[0], (cmd, err)
    assert registry_cli(["promote", version, "--force"]) == 0  # the repair
    assert Registry().champion() == version


def test_corrupt_metrics_and_bad_dir_are_errors(dirs, tmp_path, capsys):
    version = add(tmp_path, "a", "d", metrics())[0]
    broken = Registry().path(version) / "metrics.json"
    broken.write_bytes(b"{not json")
    capsys.readouterr()
    assert registry_cli(["show", version]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(broken) in err[0]
    for bad in (tmp_path / "nowhere", broken):
        for cmd in (["list"], ["verify"]):
            assert registry_cli(["--dir", str(bad), *cmd]) == 2
            assert str(bad) in capsys.readouterr().err


def test_promote_force_refuses_a_truncated_checkpoint(dirs, tmp_path, capsys):
    import torch

    folder = tmp_path / "runs" / "real"
    folder.mkdir(parents=True)
    ckpt = folder / "best.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, ckpt)
    good = register_run(folder, ckpt, None, metrics(0.5), None, auto_promote=False)[0]
    model = Registry().checkpoint(good)
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    capsys.readouterr()
    assert registry_cli(["promote", good, "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(model) in err[0] and Registry().champion() is None


@pytest.mark.slow
def test_a_training_run_never_writes_into_models(tmp_path):
    """experiment=smoke with AIVJ_HOME in a temp folder: the run registers there, models/ stays clean."""
    env = dict(os.environ, AIVJ_HOME=str(tmp_path / "home"))
    for key in ("AIVJ_REGISTRY", "AIVJ_SHIPPED_DIR"):
        env.pop(key, None)
    before = subprocess.run(["git", "status", "--porcelain", "models/"], cwd=ROOT, capture_output=True, text=True).stdout
    proc = subprocess.run(
        [
            sys.executable,
            "train.py",
            "experiment=smoke",
            f"paths.log_dir={tmp_path}/logs",
            f"paths.data_dir={tmp_path}/data",
            "extras.print_config=false",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list((tmp_path / "home" / "registry").glob("v*_*/model.ckpt"))
    after = subprocess.run(["git", "status", "--porcelain", "models/"], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before == ""
    # the smoke run (synthetic data) did not become the default champion: the shipped one still is
    reg = Registry(tmp_path / "home" / "registry")
    assert reg.champion() is None or reg.fingerprint(reg.champion()) != reg.fingerprint(reg.shipped_champion())
