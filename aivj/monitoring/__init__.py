"""Monitoring: the metric names every exporter publishes, the gate gauges, the rollback webhook,
and the Prometheus alert rules and Grafana dashboard generated from them (docs/monitoring.md).

``names`` (the agreed metric names and buckets), ``gauges`` (gate figures and the champion as
Prometheus gauges), ``rollback`` (Alertmanager's webhook that rolls the registry back), ``rules``
and ``dashboard`` (what ``aivj monitoring generate`` writes into deploy/), ``cli``.
"""
