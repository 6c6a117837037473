"""The stream's Prometheus metrics, named from the one list (aivj/contract/metric_names.py)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from aivj.contract import metric_names as names


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
                names.STREAM_EVENTS,
                "Events by outcome: applied, duplicate (event id seen before), stale (older than the pair's state), "
                "quarantined (not an event)",
                ["outcome"],
                registry=registry,
            ),
            lag=Histogram(names.STREAM_LAG, "Log-line time to applied in Redis", buckets=names.LAG_BUCKETS, registry=registry),
            pending=Gauge(names.STREAM_PENDING, "Entries read but not acknowledged in the consumer group", registry=registry),
            last_applied=Gauge(names.STREAM_LAST_APPLIED, "Unix time the last event was applied", registry=registry),
        )
