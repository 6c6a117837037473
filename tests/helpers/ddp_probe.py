"""RankProbe: what each DDP rank saw, written to ``<out_dir>/rank<N>.json`` for tests/test_ddp.py.

Test instrumentation only (the project's own artifacts are written by rank 0 alone): the pairs of every
training batch, each batch's elite count, the synced validation metrics, the gate's history and rollbacks,
and a hash of the final weights.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import lightning as L

from callbacks.drift_monitor import DriftMonitor
from callbacks.golden_gate import GoldenSetGate

METRICS = ("val/pairwise_acc", "val/loss", "golden/pass_rate", "val/gated_pairwise_acc")


class RankProbe(L.Callback):
    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.batches: list[dict] = []
        self.validations: list[dict] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        pairs = list(zip(batch["fg_idx"].tolist(), batch["bg_idx"].tolist()))
        elite = int(batch["is_elite"].sum())
        self.batches.append({"epoch": trainer.current_epoch, "pairs": pairs, "elite": elite, "size": len(pairs)})

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        got = {k: float(trainer.callback_metrics[k]) for k in METRICS if k in trainer.callback_metrics}
        self.validations.append({"epoch": trainer.current_epoch, **got})

    def on_fit_end(self, trainer, pl_module) -> None:
        gate = next(cb for cb in trainer.callbacks if isinstance(cb, GoldenSetGate))
        drift = [cb.rollbacks for cb in trainer.callbacks if isinstance(cb, DriftMonitor)]
        digest = hashlib.sha256()
        for name, tensor in sorted(pl_module.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().numpy().tobytes())
        doc = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "batches": self.batches,
            "validations": self.validations,
            "gate_history": [{"epoch": h["epoch"], "passed": h["passed"], "pass_rate": h["pass_rate"]} for h in gate.history],
            "gate_rollbacks": gate.rollbacks,
            "drift_rollbacks": drift,
            "weights": digest.hexdigest(),
        }
        Path(self.out_dir).mkdir(parents=True, exist_ok=True)
        (Path(self.out_dir) / f"rank{trainer.global_rank}.json").write_text(json.dumps(doc))
