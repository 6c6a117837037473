"""train.py / eval.py config checks and the pipeline dry run over the bad-input catalogue (in-process)."""

from __future__ import annotations

import shutil

import bad_inputs as bad
import pytest
from conftest import compose_config

from aivj.validate import ConfigError, check_config


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    from datamodules.synthetic import ensure_synthetic

    return ensure_synthetic(tmp_path_factory.mktemp("synthetic"), n_presets=120, n_pairs=1500, golden_per_side=10)


def _dataset_copy(src, tmp, damage: str):
    dst = tmp / "dataset"
    shutil.copytree(src, dst)
    if damage == "truncated presets":
        victim = dst / "presets.parquet"
    elif damage == "truncated pairs part":
        victim = sorted((dst / "pairs").rglob("*.parquet"))[0]
    else:
        (dst / "presets.parquet").unlink()
        return dst, "presets.parquet"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    return dst, victim.name


@pytest.mark.parametrize(
    "overrides, named",
    [
        (["data.data_dir=no/such/dir"], "data.data_dir=no/such/dir"),  # defect 3: used to train on synthetic data
        (["trainer.max_epochs=abc"], "trainer.max_epochs"),
        (["trainer.max_epochs=2.5"], "trainer.max_epochs"),
        (["data.elite_per_batch=-1"], "data.elite_per_batch"),
        (["data.elite_per_batch=0", "data.regular_per_batch=0"], "at least one pair"),
        (["data.batch_groups=0"], "data.batch_groups"),
        (["data.eval_batch_size=0"], "data.eval_batch_size"),
        (["trainer.limit_train_batches=-2"], "trainer.limit_train_batches"),
        (["+ckpt_path=no/such.ckpt"], "ckpt_path=no/such.ckpt"),
    ],
)
def test_train_config_errors_name_the_key(overrides, named, tmp_path):
    cfg = compose_config("train", ["experiment=smoke", *overrides], tmp_path)
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    assert named in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("damage", ["truncated presets", "truncated pairs part", "no presets.parquet"])
def test_damaged_dataset_is_named_before_training(damage, small_dataset, tmp_path):
    data_dir, name = _dataset_copy(small_dataset, tmp_path, damage)
    cfg = compose_config("train", ["data=aidata", f"data.data_dir={data_dir}"], tmp_path)
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    assert name in str(info.value) and "Traceback" not in str(info.value)


def test_good_configs_pass(small_dataset, tmp_path):
    check_config(compose_config("train", ["experiment=smoke"], tmp_path))
    check_config(compose_config("train", ["data=aidata", f"data.data_dir={small_dataset}"], tmp_path))


@pytest.mark.parametrize("kind", ["a .milk", "garbage bytes", "a folder"])
def test_eval_ckpt_path_that_is_not_a_checkpoint(kind, tmp_path):
    path = {"a .milk": lambda t: bad.milk(t, "x.milk"), "garbage bytes": bad.garbage, "a folder": bad.empty_dir}[kind](tmp_path)
    cfg = compose_config("eval", ["data=synthetic", f"ckpt_path={path}"], tmp_path)
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    assert str(path) in str(info.value) and str(info.value).startswith("ckpt_path=")


def test_train_py_exits_2_with_one_line(tmp_path, capsys):
    """train.py's main (the function Hydra wraps): nothing trained, nothing registered, one line, exit 2."""
    import train

    cfg = compose_config("train", ["experiment=smoke", "data.data_dir=no/such/dir"], tmp_path)
    with pytest.raises(SystemExit) as info:
        train.main.__wrapped__(cfg)
    assert info.value.code == 2
    bad.one_line_error(capsys.readouterr().err, "train.py", "data.data_dir=no/such/dir", "no such dataset folder")
    assert not (tmp_path / "models").exists() and not (tmp_path / "run" / "metrics.json").exists()


def test_pipeline_dry_run_fails_a_pack_without_a_manifest(tmp_path, capsys):
    pack = bad.empty_dir(tmp_path, "pack")
    out, registry = tmp_path / "pipeline", tmp_path / "registry"
    rc, stdout, err = bad.run_cli(
        ["pipeline", "--dry-run", "--experiment", "smoke", "--packs", str(pack), "--out", str(out), "--registry", str(registry)],
        capsys,
    )
    assert rc == 1, stdout + err
    (line,) = [line for line in stdout.splitlines() if line.startswith("data ")]
    assert "FAIL" in line and str(pack) in line and "no manifest" in line
    assert not out.exists() and not registry.exists() and "Traceback" not in stdout + err


def test_pipeline_with_a_missing_pack_is_one_line(tmp_path, capsys):
    pack = bad.missing(tmp_path)
    rc, _, err = bad.run_cli(["pipeline", "--dry-run", "--packs", str(pack), "--out", str(tmp_path / "p")], capsys)
    assert rc == 2
    bad.one_line_error(err, str(pack))
    assert not (tmp_path / "p").exists()


def test_pipeline_dry_run_names_a_truncated_parquet_file(small_dataset, tmp_path, capsys):
    data_dir, name = _dataset_copy(small_dataset, tmp_path, "truncated presets")
    rc, stdout, err = bad.run_cli(
        [
            "pipeline",
            "--dry-run",
            "--experiment",
            "none",
            "--data-dir",
            str(data_dir),
            "--out",
            str(tmp_path / "p"),
            "--registry",
            str(tmp_path / "r"),
        ],
        capsys,
    )
    assert rc == 1 and "Traceback" not in stdout + err
    (line,) = [line for line in stdout.splitlines() if line.startswith("data ")]
    assert "FAIL" in line and name in line


def test_aivj_debug_shows_the_traceback_only_when_asked(tmp_path, capsys, monkeypatch):
    from aivj.cli import main

    def boom(argv):
        raise KeyError("an input no check foresaw")

    import aivj.refinery.cli as refine_cli

    monkeypatch.setattr(refine_cli, "main", boom)
    rc, _, err = bad.run_cli(["refine", "render", "x"], capsys)
    assert rc == 2
    bad.one_line_error(err, "KeyError", "--debug")
    monkeypatch.setenv("AIVJ_DEBUG", "0")  # --debug sets it for the process: restored after this test
    with pytest.raises(KeyError):
        main(["--debug", "refine", "render", "x"])
