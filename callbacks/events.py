"""Where gate events go: one JSON line each in ``events.jsonl`` of the run folder, and TensorBoard.

The run folder is ``trainer.default_root_dir`` (Hydra's output dir in train.py). TensorBoard gets a
text entry ``events/<kind>`` and a running count ``events/<kind>_count`` from every logger whose
``experiment`` is a SummaryWriter; other loggers get the count through ``log_metrics``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch

EVENTS_FILE = "events.jsonl"


def run_dir(trainer) -> Path:
    return Path(trainer.default_root_dir)


def _plain(value):
    """JSON-safe copy: tensors to numbers, non-finite floats to strings."""
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _is_summary_writer(obj) -> bool:
    return type(obj).__name__ == "SummaryWriter" and hasattr(obj, "add_text") and hasattr(obj, "add_scalar")


_COUNTS: dict[tuple[int, str], int] = {}


def emit_event(trainer, kind: str, **fields) -> dict:
    """Record one event; returns the record. Only rank 0 writes."""
    record = {
        "time": round(time.time(), 3),
        "kind": kind,
        "epoch": int(trainer.current_epoch),
        "global_step": int(trainer.global_step),
        **_plain(fields),
    }
    if not trainer.is_global_zero:
        return record
    path = run_dir(trainer) / EVENTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # Appends of one short line are atomic enough: a crash loses at most the line being written.
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
    key = (id(trainer), kind)
    _COUNTS[key] = _COUNTS.get(key, 0) + 1
    for logger in trainer.loggers:
        try:
            exp = logger.experiment
        except Exception:  # a logger that cannot open its experiment must not stop training
            continue
        if _is_summary_writer(exp):
            exp.add_text(f"events/{kind}", "`" + json.dumps(record, sort_keys=True) + "`", trainer.global_step)
            exp.add_scalar(f"events/{kind}_count", _COUNTS[key], trainer.global_step)
        else:
            logger.log_metrics({f"events/{kind}_count": _COUNTS[key]}, step=trainer.global_step)
    return record


def publish_metrics(trainer, metrics: dict[str, float]) -> None:
    """Make metrics visible to later callbacks (ModelCheckpoint, EarlyStopping) and to the loggers.

    Used from ``on_validation_end``, where ``LightningModule.log`` is not allowed but the epoch's
    validation metrics are final.
    """
    for name, value in metrics.items():
        trainer.callback_metrics[name] = torch.tensor(float(value))
    if trainer.sanity_checking or not trainer.is_global_zero:
        return
    row = {k: float(v) for k, v in metrics.items()}
    row["epoch"] = trainer.current_epoch  # as Lightning adds to its own rows
    for logger in trainer.loggers:
        logger.log_metrics(row, step=trainer.global_step)


def read_events(folder: Path) -> list[dict]:
    path = Path(folder) / EVENTS_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:  # a torn last line after a crash
                continue
    return out
