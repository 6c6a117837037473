"""prometheus.yml and alertmanager.yml for the aivj exporters, as data: the examples in deploy/ and the
integration test's configs come from the same two functions.

Prometheus scrapes one job per exporter and sends alerts to Alertmanager; Alertmanager routes the
alerts labelled ``action="rollback"`` to the daemon's webhook with the shared bearer token (read from
a file, so the token is not in the config), everything else to ``people`` (add a pager there).
"""

from __future__ import annotations

import yaml

# Where the examples expect each exporter: aivj serve --port, the daemon's status app (conf/daemon
# status.port), aivj stream work --serve PORT.
EXAMPLE_TARGETS = {"aivj-serve": ["127.0.0.1:8000"], "aivj-daemon": ["127.0.0.1:8790"], "aivj-stream": ["127.0.0.1:8002"]}
EXAMPLE_WEBHOOK = "http://127.0.0.1:8790/alerts/rollback"
EXAMPLE_TOKEN_FILE = "/etc/aivj/rollback_token"


def prometheus_config(
    targets: dict[str, list[str]] = EXAMPLE_TARGETS,
    alertmanagers: tuple[str, ...] = ("127.0.0.1:9093",),
    rule_files: tuple[str, ...] = ("aivj-rules.yml",),
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
) -> dict:
    return {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": evaluation_interval},
        "rule_files": list(rule_files),
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(t)}]} for job, t in targets.items()],
    }


def alertmanager_config(
    webhook_url: str = EXAMPLE_WEBHOOK,
    token_file: str = EXAMPLE_TOKEN_FILE,
    group_wait: str = "30s",
    group_interval: str = "5m",
    repeat_interval: str = "4h",
) -> dict:
    return {
        "route": {
            "receiver": "people",
            "group_by": ["alertname", "version"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
            # continue: a rollback alert also reaches the people's route after it
            "routes": [
                {"matchers": ['action="rollback"'], "receiver": "aivj-rollback", "continue": True},
                {"receiver": "people"},
            ],
        },
        "receivers": [
            {"name": "people"},
            {
                "name": "aivj-rollback",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": False,
                        "max_alerts": 0,
                        "http_config": {"authorization": {"type": "Bearer", "credentials_file": token_file}},
                    }
                ],
            },
        ],
    }


def as_yaml(doc: dict, header: str = "") -> str:
    return header + yaml.safe_dump(doc, sort_keys=False, width=200)
