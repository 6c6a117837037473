"""aivj export: pairs-quality.v0.json on a pack in the user's layout (static path, the path gate, the
fallback without projectM, the meta sidecar), and ONNX against onnxruntime. Renders: test_export_render.py."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import onnxruntime as ort
import pytest
import torch

from aivj.export.cli import main as export_cli
from aivj.export.pairs_quality import MIN_STD, std_stretch
from aivj.inference.onnx import INPUTS, example_inputs
from aivj.registry import register_run
from tests.helpers.tiny_module import (
    RandomPairsDataModule,
    TinyCouplingModule,
    trust_test_helpers,
)

MILK = (
    "[preset00]\nfRating=5.000\nfDecay={decay}\nwarp={warp}\nzoom={zoom}\nrot={rot}\ncx=0.5\ncy=0.5\nnWaveMode={mode}\n"
    "per_frame_1=wave_r = 0.5 + 0.4*sin(time*{k});\nper_pixel_1=zoom = zoom + 0.01*rad;\n"
)


def make_pack(root, n=12, missing=(3,), broken=(5,)):
    """A coupled pack as the generator writes it: manifest paths from another machine."""
    pack = root / "coupled_test_pack"
    (pack / "fg").mkdir(parents=True)
    (pack / "bg").mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n):
        name = f"coupled_{i:05d}_20260129_015409"
        for side in ("fg", "bg"):
            text = MILK.format(
                decay=rng.uniform(0.9, 1),
                warp=rng.uniform(0, 5),
                zoom=rng.uniform(0.8, 1.5),
                rot=rng.uniform(-1, 1),
                mode=int(rng.integers(0, 8)),
                k=rng.uniform(0.1, 3),
            )
            if i in broken and side == "bg":
                text = "\x00\x01 not a preset"
            if not (i in missing and side == "fg"):
                (pack / side / f"{name}_{side}.milk").write_text(text)
        fg = (
            f"/mnt/d/aidata/coupled_test_pack/fg/{name}_fg.milk"
            if i % 2
            else f"D:\\aidata\\coupled_test_pack\\fg\\{name}_fg.milk"
        )
        lines.append(
            json.dumps(
                {
                    "pair": i,
                    "fg": fg,
                    "bg": f"/mnt/d/aidata/coupled_test_pack/bg/{name}_bg.milk",
                    "warp_diff": 0.01,
                    "cx_diff": 0.1,
                }
            )
        )
    (pack / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return pack


PASSING = {
    "test_unseen/pairwise_acc": 0.95,
    "golden/pass_rate": 1.0,
    "static/test_unseen/pairwise_acc": 0.71,
    "static/golden/pass_rate": 0.9,
}
RENDER_ONLY = {"test_unseen/pairwise_acc": 0.95, "golden/pass_rate": 1.0}


@pytest.fixture(autouse=True)
def hermetic_registry(tmp_path, monkeypatch):
    """A registry of this test's own; the project's shipped champion stays out of it."""
    monkeypatch.setenv("AIVJ_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    trust_test_helpers(monkeypatch)


def no_projectm(monkeypatch):
    from aivj.refinery import native

    def missing():
        raise native.RefineryUnavailable(
            f"the refinery needs projectM (missing: libprojectm-dev); install with: {native.INSTALL_HINT}"
        )

    monkeypatch.setattr(native, "require_projectm", missing)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    trainer = L.Trainer(
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp,
    )
    trainer.fit(TinyCouplingModule(), datamodule=RandomPairsDataModule(n_train=256))
    path = tmp / "tiny.ckpt"
    trainer.save_checkpoint(path)
    ckpt = torch.load(path, weights_only=False)
    ckpt["aivj_model_class"] = "tests.helpers.tiny_module.TinyCouplingModule"
    torch.save(ckpt, path)
    (tmp / "metrics.json").write_text(json.dumps(PASSING))  # a checkpoint is judged by the metrics beside it
    return path


def register(tmp_path, checkpoint, metrics):
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    cfg = {"model": {"_target_": "tests.helpers.tiny_module.TinyCouplingModule"}}
    version, promoted, _ = register_run(run, checkpoint, cfg, {**metrics}, None)
    return version, promoted


def check_pairs_quality(doc, pack_name, expected_pairs, missing):
    assert set(doc) == {"pack", "pairs", "qualityStats", "stats"}
    assert doc["pack"] == pack_name and doc["stats"] == {"missingFiles": missing}
    assert [p["pair"] for p in doc["pairs"]] == expected_pairs
    assert all(set(p) == {"pair", "quality01"} and 0.0 <= p["quality01"] <= 1.0 for p in doc["pairs"])
    q = np.array([p["quality01"] for p in doc["pairs"]])
    stats = doc["qualityStats"]
    assert stats["calibration"] == "std_stretch.v0" and stats["std"] >= MIN_STD
    for key, value in (
        ("min", q.min()),
        ("max", q.max()),
        ("mean", q.mean()),
        ("std", q.std()),
        ("p50", np.percentile(q, 50)),
        ("p95", np.percentile(q, 95)),
    ):
        assert stats[key] == pytest.approx(value, abs=1e-6)


def test_pairs_quality_from_a_checkpoint(tmp_path, checkpoint):
    pack = make_pack(tmp_path)
    # exit 1: written, with pairs set aside (the sidecar says which)
    assert export_cli(["pairs-quality", "--pack", str(pack), "--model", str(checkpoint), "--render", "never"]) == 1
    doc = json.loads((pack / "pairs-quality.v0.json").read_text())
    # pair 3 lost its fg file, pair 5 has an unreadable bg: left out, and one file each counted
    check_pairs_quality(doc, "coupled_test_pack", [i for i in range(12) if i not in (3, 5)], missing=2)
    meta = json.loads((pack / "pairs-quality.v0.meta.json").read_text())
    assert meta["scoring_path"] == "static" and meta["renders"] is None and meta["model"] == str(checkpoint)
    assert meta["pairs"]["in"] == meta["pairs"]["written"] + meta["pairs"]["set_aside"] == 12
    assert meta["pairs"]["written"] == 10 and meta["path_figures"]["static/test_unseen/pairwise_acc"] == 0.71


def test_pairs_quality_from_the_champion_with_a_web_manifest(tmp_path, checkpoint):
    _, promoted = register(tmp_path, checkpoint, PASSING)
    assert promoted
    pack = make_pack(tmp_path, n=6, missing=(), broken=())
    web = {
        "version": "v0",
        "generatedAt": "2026-01-29T00:00:00Z",
        "pack": "webpack",
        "pairs": [
            {
                "pair": 10 + i,
                "fgUrl": f"/presets/webpack/fg/coupled_{i:05d}_20260129_015409_fg.milk",
                "bgUrl": f"/presets/webpack/bg/coupled_{i:05d}_20260129_015409_bg.milk",
            }
            for i in range(6)
        ],
    }
    (pack / "pairs-manifest.v0.json").write_text(json.dumps(web))
    out = tmp_path / "out" / "pq.json"
    assert export_cli(["pairs-quality", "--pack", str(pack), "--out", str(out), "--render", "never"]) == 0
    check_pairs_quality(json.loads(out.read_text()), "webpack", list(range(10, 16)), missing=0)
    assert json.loads((tmp_path / "out" / "pq.meta.json").read_text())["pairs"]["written"] == 6


def test_static_path_refused_without_static_figures(tmp_path, checkpoint, capsys):
    version, _ = register(tmp_path, checkpoint, RENDER_ONLY)
    pack = make_pack(tmp_path, n=4, missing=(), broken=())
    assert export_cli(["pairs-quality", "--pack", str(pack), "--render", "never"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and version in err and "static/test_unseen/pairwise_acc" in err
    assert not (pack / "pairs-quality.v0.json").exists()


def test_render_always_without_projectm_fails_with_the_install_line(tmp_path, checkpoint, capsys, monkeypatch):
    from aivj.refinery.native import INSTALL_HINT

    register(tmp_path, checkpoint, PASSING)
    no_projectm(monkeypatch)
    pack = make_pack(tmp_path, n=4, missing=(), broken=())
    for extra in (["--render", "always"], ["--score", "refinery"]):
        assert export_cli(["pairs-quality", "--pack", str(pack), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and INSTALL_HINT in err
    assert not (pack / "pairs-quality.v0.json").exists()


def test_auto_without_projectm_falls_back_with_one_warning(tmp_path, checkpoint, capsys, monkeypatch):
    version, _ = register(tmp_path, checkpoint, PASSING)
    no_projectm(monkeypatch)
    pack = make_pack(tmp_path, n=4, missing=(), broken=())
    assert export_cli(["pairs-quality", "--pack", str(pack)]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "static/test_unseen/pairwise_acc" in err[0] and "0.710" in err[0] and version in err[0]
    meta = json.loads((pack / "pairs-quality.v0.meta.json").read_text())
    assert meta["scoring_path"] == "static" and "libprojectm-dev" in meta["fallback_reason"]
    # the same fallback for a version that never measured its static path: refused, not shipped
    (pack / "pairs-quality.v0.json").unlink()
    other = register_run(
        tmp_path / "run",
        checkpoint,
        {"model": {"_target_": "tests.helpers.tiny_module.TinyCouplingModule"}},
        RENDER_ONLY,
        None,
        auto_promote=False,
    )[0]
    assert export_cli(["pairs-quality", "--pack", str(pack), "--model", other]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no renders" in err and "static/test_unseen/pairwise_acc" in err
    assert not (pack / "pairs-quality.v0.json").exists()


@pytest.mark.parametrize("garbage", [b"\xff\xfe\x00binary", b"v999_zzzz\n"])
def test_broken_champion_pointer_is_one_line_naming_the_file(tmp_path, checkpoint, capsys, garbage):
    register(tmp_path, checkpoint, PASSING)
    pointer = tmp_path / "registry" / "champion"
    pointer.write_bytes(garbage)
    pack = make_pack(tmp_path, n=4, missing=(), broken=())
    assert export_cli(["pairs-quality", "--pack", str(pack), "--render", "never"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(pointer) in err and "Traceback" not in err


def test_std_stretch_spreads_a_narrow_distribution():
    q = 0.5 + np.linspace(-0.005, 0.005, 50)
    out = std_stretch(q)
    assert out.std() >= MIN_STD and np.argsort(out).tolist() == np.argsort(q).tolist()
    near_top = std_stretch(np.array([0.99, 0.995, 1.0, 1.0, 0.998]))
    assert near_top.std() >= MIN_STD and near_top.max() <= 1.0 and near_top.min() >= 0.0
    wide = np.array([0.1, 0.5, 0.9])
    assert np.array_equal(std_stretch(wide), wide)


@pytest.mark.slow
def test_onnx_export_matches_onnxruntime_with_another_batch(tmp_path, checkpoint):
    out = tmp_path / "model.onnx"
    assert export_cli(["onnx", "--model", str(checkpoint), "--out", str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    model = TinyCouplingModule.load_from_checkpoint(checkpoint).eval()
    for n in (1, 33):
        x = example_inputs(n, seed=n)
        got = session.run(["score"], {k: v.numpy() for k, v in zip(INPUTS, x)})[0]
        with torch.no_grad():
            want = model.net(dict(zip(INPUTS, x)))["score"].numpy()
        assert got.shape == (n,) and np.abs(got - want).max() < 1e-4


@pytest.mark.parametrize("args, needle", [(["--workers", "0"], "--workers 0"), (["--pack", "no/such/pack"], "no/such/pack")])
def test_bad_arguments_are_one_line_and_write_nothing(tmp_path, checkpoint, capsys, args, needle):
    register(tmp_path, checkpoint, PASSING)
    pack = make_pack(tmp_path, n=4, missing=(), broken=())
    argv = ["pairs-quality", "--pack", str(pack), "--render", "never", *args]
    assert export_cli(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err
    assert not (pack / "pairs-quality.v0.json").exists() and not (pack / "pairs-quality.v0.meta.json").exists()


def test_a_pack_with_no_usable_pair_writes_nothing(tmp_path, checkpoint, capsys):
    register(tmp_path, checkpoint, PASSING)
    pack = make_pack(tmp_path, n=3, missing=(0, 1, 2), broken=())
    assert export_cli(["pairs-quality", "--pack", str(pack), "--render", "never"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "manifest.jsonl" in err and "none of its 3 pair(s)" in err
    assert not (pack / "pairs-quality.v0.json").exists()
