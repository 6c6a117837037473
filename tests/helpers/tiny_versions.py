"""Registry versions of the tiny test scorer that ``load_scorer`` really loads, in a second each.

``register_tiny(registry_dir, tmp, metrics)`` writes an untrained ``TinyCouplingModule`` checkpoint
(no Trainer) with the given recorded figures and registers it without promotion. Call
``trust_test_helpers(monkeypatch)`` first so the loader accepts the test module's class.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightning
import torch

from aivj.registry.api import register_run
from tests.helpers.tiny_module import TinyCouplingModule

# Figures that pass both scoring paths' gates (aivj/contract/thresholds.py) with room to spare.
PASSING = {
    "golden/pass_rate": 0.99,
    "test_unseen/pairwise_acc": 0.95,
    "static/golden/pass_rate": 0.80,
    "static/test_unseen/pairwise_acc": 0.70,
    "val/pairwise_acc": 0.90,
    "drift/kl": 0.02,
}


def register_tiny(
    registry_dir: Path, tmp: Path, metrics: dict, name: str, seed: int = 0, histogram=None, plots: dict | None = None
) -> str:
    """``histogram``: the reference histogram's counts; ``plots``: {png name: bytes} of the run's report."""
    torch.manual_seed(seed)
    module = TinyCouplingModule()
    run = Path(tmp) / name
    run.mkdir(parents=True)
    ckpt = run / "model.ckpt"
    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": lightning.__version__,
            "aivj_model_class": "tests.helpers.tiny_module.TinyCouplingModule",
            "epoch": 0,
        },
        ckpt,
    )
    if histogram is not None:
        (run / "pred_histograms.json").write_text(json.dumps({"bins": len(histogram), "by_epoch": {"0": histogram}}))
    for png, data in (plots or {}).items():
        (run / "report_plots").mkdir(exist_ok=True)
        (run / "report_plots" / png).write_bytes(data)
    data = Path(tmp) / "data"
    data.mkdir(exist_ok=True)
    (data / "pairs.parquet").write_bytes(b"same data for every version")
    cfg = {"model": {"_target_": "tests.helpers.tiny_module.TinyCouplingModule"}}
    version, _, _ = register_run(run, ckpt, cfg, metrics, data, auto_promote=False, registry_dir=registry_dir)
    return version
