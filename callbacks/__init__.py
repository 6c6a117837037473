"""Training-time quality gates: golden-set gate, drift monitor, non-finite guard, val-loss trend.

Each gate is a Lightning callback (configs in ``conf/callbacks/``). They share two helpers:
``callbacks.events`` (every event to ``events.jsonl`` in the run folder and to TensorBoard) and
``callbacks.rollback`` (restore model, optimizer and scheduler state in the running process from the
last state every gate judged good). docs/callbacks.md explains the rules and the gated metric.
"""

from callbacks.drift_monitor import DriftMonitor
from callbacks.golden_gate import GoldenSetGate
from callbacks.non_finite_guard import NonFiniteGuard, NonFiniteTrainingError
from callbacks.val_loss_trend import ValLossTrend

__all__ = ["DriftMonitor", "GoldenSetGate", "NonFiniteGuard", "NonFiniteTrainingError", "ValLossTrend"]
