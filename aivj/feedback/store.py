"""The feedback store: events and exposures in SQL (SQLAlchemy Core), SQLite by default, PostgreSQL by URL.

Idempotent by event id: a batch's events whose ids are stored with the same content are counted as
duplicates and skipped; an id stored with *other* content refuses the whole batch (``ConflictError``),
so nothing of it is written. Inserts use the dialect's ON CONFLICT DO NOTHING, so two requests racing
with the same new event store it once; an id the insert found taken (another request stored it after
this one looked) is compared by content in the same transaction, so a race with *other* content is a
conflict too, not a duplicate. An exposure is a client's first sight of an experiment: the
first one logged stays.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from aivj.feedback.events import EventBase
from aivj.services.logs import redact_url

metadata = sa.MetaData()
_id = lambda name, **kw: sa.Column(name, sa.String(64), **kw)  # noqa: E731

events = sa.Table(
    "feedback_events",
    metadata,
    _id("event_id", primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("type", sa.String(8), nullable=False),
    _id("client_id", nullable=False, index=True),
    _id("session_id", nullable=False),
    _id("experiment", index=True),
    _id("variant"),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    _id("fg", nullable=False),
    _id("bg", nullable=False),
    sa.Column("dwell_s", sa.Float),
    sa.Column("after_s", sa.Float),
    sa.Column("rating", sa.SmallInteger),
    _id("source", nullable=False),  # the API key's client that sent it
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

exposures = sa.Table(
    "feedback_exposures",
    metadata,
    _id("experiment", primary_key=True),
    _id("client_id", primary_key=True),
    _id("variant", nullable=False),
    sa.Column("first_time", sa.DateTime(timezone=True), nullable=False),
    _id("source", nullable=False),
)

EVENT_COLUMNS = [c.name for c in events.columns if c.name not in ("digest", "source", "received_at")]


class ConflictError(ValueError):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"event ids already stored with other content: {', '.join(sorted(ids)[:10])}")
        self.ids = ids


def default_url(home: Path) -> str:
    return f"sqlite:///{Path(home) / 'feedback.db'}"


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


class FeedbackStore:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise ValueError(f"feedback store {redact_url(url)}: not a usable SQLAlchemy URL ({exc})") from None
        self.url = url
        metadata.create_all(self.engine)

    def _insert(self, table: sa.Table):
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    def add_events(self, batch: list[EventBase], source: str) -> tuple[int, int]:
        """Store a batch: (stored, duplicates); ConflictError (nothing written) when an id is reused."""
        rows: dict[str, dict] = {}
        conflicts = set()
        now = datetime.now(UTC)
        for ev in batch:
            # every row names every column: an executemany takes its columns from the first row
            row = dict.fromkeys(("dwell_s", "after_s", "rating")) | ev.model_dump()
            row.update(digest=ev.digest(), time=_utc(ev.time), source=source, received_at=now)
            if ev.event_id in rows and rows[ev.event_id]["digest"] != row["digest"]:
                conflicts.add(ev.event_id)
            rows.setdefault(ev.event_id, row)
        with self.engine.begin() as conn:
            stored_digest = dict(
                conn.execute(sa.select(events.c.event_id, events.c.digest).where(events.c.event_id.in_(list(rows)))).all()
            )
            conflicts |= {i for i, d in stored_digest.items() if rows[i]["digest"] != d}
            if conflicts:
                raise ConflictError(sorted(conflicts))
            new = [r for i, r in rows.items() if i not in stored_digest]
            inserted = conn.execute(self._insert(events).returning(events.c.event_id), new).all() if new else []
            taken = [r["event_id"] for r in new if r["event_id"] not in {i for (i,) in inserted}]
            if taken:  # the unique key refused them: stored by a racing request since the select above
                raced = conn.execute(sa.select(events.c.event_id, events.c.digest).where(events.c.event_id.in_(taken)))
                conflicts = {i for i, d in raced.all() if rows[i]["digest"] != d}
                if conflicts:
                    raise ConflictError(sorted(conflicts))  # leaving the block rolls this batch back
        return len(inserted), len(batch) - len(inserted)

    def log_exposure(self, experiment: str, client_id: str, variant: str, time: datetime, source: str) -> dict:
        row = dict(experiment=experiment, client_id=client_id, variant=variant, first_time=_utc(time), source=source)
        with self.engine.begin() as conn:
            conn.execute(self._insert(exposures), [row])
            got = conn.execute(
                sa.select(exposures).where(exposures.c.experiment == experiment, exposures.c.client_id == client_id)
            ).one()
        return dict(got._mapping)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()

    def read_events(self, experiment: str | None = None, client_id: str | None = None) -> list[dict]:
        query = sa.select(*(events.c[c] for c in EVENT_COLUMNS)).order_by(events.c.time, events.c.event_id)
        if experiment is not None:
            query = query.where(events.c.experiment == experiment)
        if client_id is not None:
            query = query.where(events.c.client_id == client_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def read_exposures(self, experiment: str) -> list[dict]:
        query = sa.select(exposures).where(exposures.c.experiment == experiment).order_by(exposures.c.first_time)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
