"""Model loading (`aivj export`, eval.py) over files that are not checkpoints, and a hostile pickle."""

from __future__ import annotations

import os
from pathlib import Path

import bad_inputs as bad
import pytest
import torch

from aivj.inference.checkpoint import read_checkpoint

_MODELS = Path(__file__).resolve().parents[1] / "models"
CHAMPION = _MODELS / (_MODELS / "champion").read_text().strip() / "model.ckpt"  # the shipped champion


class _Hostile:
    def __reduce__(self):  # unpickling this calls os.system: a loader that allows it runs the command
        return (os.system, (f"touch {self.marker}",))


def _not_checkpoints(tmp: Path) -> dict[str, tuple[Path, str]]:
    """kind -> (file, what the one line says)."""
    torch.save({"weights": torch.zeros(2)}, tmp / "plain_dict.ckpt")
    torch.save(torch.zeros(3), tmp / "tensor.ckpt")
    hostile = _Hostile()
    hostile.marker = tmp / "PWNED"
    torch.save({"state_dict": {}, "payload": hostile}, tmp / "hostile.ckpt")
    return {
        "a .milk": (bad.milk(tmp, "preset.milk"), "not a PyTorch checkpoint"),
        "garbage bytes": (bad.garbage(tmp, "random.ckpt"), "not a PyTorch checkpoint"),
        "empty": (bad.empty_file(tmp, "empty.ckpt"), "not a PyTorch checkpoint"),
        "truncated": (bad.truncated(CHAMPION, tmp), "not a PyTorch checkpoint"),
        "a plain dict": (tmp / "plain_dict.ckpt", "without state_dict"),
        "a tensor": (tmp / "tensor.ckpt", "holds a Tensor"),
        "hostile pickle": (tmp / "hostile.ckpt", "refused"),
        "a folder": (bad.empty_dir(tmp, "folder.ckpt"), "folder"),
    }


KINDS = ["a .milk", "garbage bytes", "empty", "truncated", "a plain dict", "a tensor", "hostile pickle", "a folder"]


@pytest.mark.parametrize("kind", KINDS)
def test_read_checkpoint_refuses_in_one_line(kind, tmp_path):
    path, says = _not_checkpoints(tmp_path)[kind]
    with pytest.raises(ValueError) as info:
        read_checkpoint(path)
    msg = str(info.value)
    assert str(path) in msg and says in msg and "\n" not in msg
    assert not (tmp_path / "PWNED").exists()  # the hostile pickle did not run


@pytest.mark.parametrize("kind", ["a .milk", "garbage bytes", "truncated", "a tensor", "hostile pickle"])
def test_export_onnx_with_a_bad_model_writes_nothing(kind, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AIVJ_REGISTRY", str(tmp_path / "registry"))
    path, says = _not_checkpoints(tmp_path)[kind]
    out = tmp_path / "model.onnx"
    rc, _, err = bad.run_cli(["export", "onnx", "--model", str(path), "--out", str(out)], capsys)
    assert rc == 2
    bad.one_line_error(err, str(path), says)
    assert not out.exists() and not (tmp_path / "PWNED").exists()


def test_the_shipped_champion_loads_weights_only_and_scores_as_before():
    """The weights the safe loader gives are the checkpoint's, tensor for tensor (so scores are identical)."""
    from aivj.inference.loading import load_model

    model, _ = load_model(str(CHAMPION))
    trusted = torch.load(CHAMPION, map_location="cpu", weights_only=False)["state_dict"]  # our own committed file
    state = model.state_dict()
    assert set(state) == set(trusted)
    assert all(torch.equal(state[k], trusted[k]) for k in trusted)


def test_checkpoints_with_omegaconf_hyperparameters_still_load(tmp_path):
    """Older train.py checkpoints hold OmegaConf lists; they load through the allow-list, nothing else does."""
    from omegaconf import OmegaConf

    ckpt = torch.load(CHAMPION, map_location="cpu", weights_only=False)
    ckpt["hyper_parameters"]["eval_paths"] = OmegaConf.create(["render", "static"])
    torch.save(ckpt, tmp_path / "old.ckpt")
    loaded = read_checkpoint(tmp_path / "old.ckpt")
    assert list(loaded["hyper_parameters"]["eval_paths"]) == ["render", "static"]
