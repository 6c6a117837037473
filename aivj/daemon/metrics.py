"""The daemon's Prometheus metrics, named from the one list (aivj/contract/metric_names.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge

from aivj.contract import metric_names as names

STATES = list(names.DAEMON_STATES)
DECISIONS = list(names.DAEMON_DECISIONS)
FAST_FIGURES = ("fast/pairwise_acc", "fast/mae")


class DaemonMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.state = Enum(names.DAEMON_STATE, "What the daemon is doing", states=STATES, registry=r)
        self.last_decision = Enum(names.DAEMON_LAST_DECISION, "Decision of the last run", states=DECISIONS, registry=r)
        self.runs = Counter(names.DAEMON_RUNS, "Finished runs by decision", ["decision"], registry=r)
        self.failures = Gauge(names.DAEMON_FAILURES, "Failed runs in a row", registry=r)
        self.last_run = Gauge(names.DAEMON_LAST_RUN, "When the last run finished", registry=r)
        self.heartbeat = Gauge(names.DAEMON_HEARTBEAT, "Last scheduler tick", registry=r)
        self.progress = Gauge(names.TRAINING_PROGRESS, "Progress of the current training run (0..1)", registry=r)
        self.epoch = Gauge(names.TRAINING_EPOCH, "Epochs finished in the current training stage", registry=r)
        self.golden = Gauge(names.GOLDEN_PASS_RATE, "Champion's golden pass rate at the last gate", ["path"], registry=r)
        self.fast = Gauge(names.FAST_SET_METRIC, "Champion's fast regression set figures", ["metric", "path"], registry=r)
        # Not aivj_drift_kl: that is the champion's drift, which the rollback rule acts on; a rejected
        # candidate's drift must never roll back the champion it failed to replace.
        self.drift = Gauge(
            names.CANDIDATE_DRIFT_KL, "KL of the last judged candidate's predictions from the champion's", ["path"], registry=r
        )
        # Not aivj_champion_info: the rollback rules join gate figures with it, and the daemon's figures
        # (the champion re-measured on the daemon's newest data) feed its own decisions, not a rollback.
        self.champion = Gauge(
            names.DAEMON_CHAMPION_INFO, "The champion after the last decision (value 1)", ["version"], registry=r
        )

    def set_state(self, state: str) -> None:
        self.state.state(state)

    def publish_gate(self, figures: dict | None, drift: dict, paths, champion: str | None) -> None:
        """Figures of the model that is champion after the decision, drift of the candidate judged."""
        from aivj.contract.scoring_paths import metric_name

        for path in paths:
            value = (figures or {}).get(metric_name(path, "golden/pass_rate"))
            if value is not None:
                self.golden.labels(path).set(value)
            for name in FAST_FIGURES:
                value = (figures or {}).get(metric_name(path, name))
                if value is not None:
                    self.fast.labels(name.split("/")[1], path).set(value)
            if path in drift:
                self.drift.labels(path).set(drift[path])
        if champion:
            self.champion.clear()
            self.champion.labels(champion).set(1)

    def finish_run(self, decision: str, failures: int, when: float) -> None:
        self.runs.labels(decision).inc()
        self.last_decision.state(decision)
        self.failures.set(failures)
        self.last_run.set(when)
