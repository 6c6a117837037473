"""Progressive learning from viewers (docs/feedback.md).

``events`` (what a player may send), ``store`` (SQLAlchemy: SQLite or PostgreSQL, idempotent by event
id), ``api`` (the service on ``aivj.services.create_app``), ``assign`` (deterministic A/B arms),
``preference`` (the head on the coupling network's pair embedding), ``federated`` (FedAvg, raw events
stay on the client) and ``simulate`` (viewers whose tastes differ). The A/B analysis is ``aivj.ab``.
"""
