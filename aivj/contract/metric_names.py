"""The metric names the exporters publish (daemon, streaming reweighter, ``aivj serve``).

One list for the exporters (aivj/daemon, aivj/stream, aivj/serving) and the alert rules and dashboard
of aivj/monitoring, kept in the contract so a service need not import monitoring to publish; prometheus-client
adds ``_total`` to counters and ``_bucket``/``_sum``/``_count`` to histograms. The latency buckets
span 0.1 ms (one cached pair) to 250 ms (a pack's top-k); the lag buckets reach 2.5 s.
"""

from __future__ import annotations

# Gates: published by the daemon after each gate and by `aivj serve` for its loaded champion.
GOLDEN_PASS_RATE = "aivj_golden_pass_rate"  # {path}
FAST_SET_METRIC = "aivj_fast_set_metric"  # {metric, path}
# The served champion's: the rollback rules join DRIFT_KL and GOLDEN_PASS_RATE with CHAMPION_INFO.
DRIFT_KL = "aivj_drift_kl"  # {path}
CHAMPION_INFO = "aivj_champion_info"  # {version} = 1
# The daemon's own view, never a rollback input: a judged candidate's drift, the champion it decided on.
CANDIDATE_DRIFT_KL = "aivj_candidate_drift_kl"  # {path}
DAEMON_CHAMPION_INFO = "aivj_daemon_champion_info"  # {version} = 1

# Training (daemon).
TRAINING_PROGRESS = "aivj_training_progress_ratio"
TRAINING_EPOCH = "aivj_training_epoch"

# Scoring service.
INFERENCE_LATENCY = "aivj_inference_latency_seconds"  # histogram {endpoint}
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)

# Daemon.
DAEMON_STATE = "aivj_daemon_state"  # Enum
DAEMON_STATES = ("idle", "ingesting", "training", "gating", "promoting", "paused", "backoff")
DAEMON_LAST_DECISION = "aivj_daemon_last_decision"  # Enum
DAEMON_DECISIONS = ("none", "promoted", "rejected", "rolled_back", "skipped", "failed")
DAEMON_RUNS = "aivj_daemon_runs"  # counter {decision}
DAEMON_FAILURES = "aivj_daemon_consecutive_failures"
DAEMON_LAST_RUN = "aivj_daemon_last_run_timestamp_seconds"
DAEMON_HEARTBEAT = "aivj_daemon_heartbeat_timestamp_seconds"

# Streaming reweighter.
STREAM_EVENTS = "aivj_stream_events"  # counter {outcome}: applied | duplicate | stale | quarantined
STREAM_LAG = "aivj_stream_lag_seconds"  # histogram
LAG_BUCKETS = (*LATENCY_BUCKETS, 0.5, 1.0, 2.5)
STREAM_PENDING = "aivj_stream_pending_events"
STREAM_LAST_APPLIED = "aivj_stream_last_applied_timestamp_seconds"

# The rollback webhook.
ROLLBACKS = "aivj_rollbacks"  # counter {alertname}
