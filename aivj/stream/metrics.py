"""The stream's Prometheus metrics, the names agreed with the monitoring dashboard (docs/streaming.md)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
LAG_BUCKETS = (*LATENCY_BUCKETS, 0.5, 1.0, 2.5)


@dataclass
class StreamMetrics:
    events: Counter
    lag: Histogram
    pending: Gauge
    last_applied: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> StreamMetrics:
        registry = registry if registry is not None else CollectorRegistry()
        return cls(
            events=Counter(
                "aivj_stream_events",
                "Events by outcome: applied, duplicate (event id seen before), stale (older than the pair's state), "
                "quarantined (not an event)",
                ["outcome"],
                registry=registry,
            ),
            lag=Histogram("aivj_stream_lag_seconds", "Log-line time to applied in Redis", buckets=LAG_BUCKETS, registry=registry),
            pending=Gauge(
                "aivj_stream_pending_events", "Entries read but not acknowledged in the consumer group", registry=registry
            ),
            last_applied=Gauge(
                "aivj_stream_last_applied_timestamp_seconds", "Unix time the last event was applied", registry=registry
            ),
        )
