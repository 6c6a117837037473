"""The champion and its recorded gate figures as Prometheus gauges, on a registry the caller owns.

``aivj serve`` publishes them for the version it has loaded; the daemon may publish the same names
after a gate. The alert rules join every gate figure with ``aivj_champion_info`` on the scrape
target, so an alert names the version it is about and the rollback webhook acts only on the
current champion (a repeated notification after a rollback changes nothing).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from aivj.contract import metric_names as names
from aivj.contract.scoring_paths import SCORING_PATHS, metric_name
from aivj.registry.rules import PromotionRules, lookup

DRIFT_NAMES = ("drift/kl",)


class ChampionGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.info = Gauge(names.CHAMPION_INFO, "The champion version (value 1)", ["version"], registry=registry)
        self.pass_rate = Gauge(names.GOLDEN_PASS_RATE, "Golden-set pass rate of the champion", ["path"], registry=registry)
        self.drift = Gauge(names.DRIFT_KL, "KL drift of the champion's score histogram (nats)", ["path"], registry=registry)

    def publish(self, version: str, metrics: dict | None) -> dict[str, float]:
        """Replace every series with ``version``'s; returns {series: value} of what was set."""
        for gauge in (self.info, self.pass_rate, self.drift):
            gauge.clear()
        self.info.labels(version).set(1)
        published = {f"{names.CHAMPION_INFO}{{version={version}}}": 1.0}
        golden = PromotionRules().golden_metric
        for path in SCORING_PATHS:
            for gauge, keys in ((self.pass_rate, golden), (self.drift, DRIFT_NAMES)):
                value = lookup(metrics or {}, tuple(metric_name(path, k) for k in keys))
                if value is not None:  # a version without the figure publishes no series for it
                    gauge.labels(path).set(value)
                    published[f"{gauge._name}{{path={path}}}"] = value
        return published
