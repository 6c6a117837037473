"""What a viewer's player may send: ``shown``, ``dwell``, ``skip`` and ``rate`` events for one (FG, BG) pair.

Every field is bounded (ids, lengths, ranges, a batch's size) so the OpenAPI schema says what is valid
and anything else is refused with 422 before it reaches the store. ``time`` must carry a time zone and
lie between 2020 and a day after the server's clock (a client's clock may run a little ahead).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

EVENT_TYPES = ("shown", "dwell", "skip", "rate")
MAX_BATCH = 500
MAX_DWELL_S = 6 * 3600.0  # a pair on screen longer than a night's set is a stuck player, not taste
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
PresetId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8,64}$")]  # the content hash of the .milk text


def _plausible(t: datetime) -> datetime:
    if not EARLIEST <= t <= datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(f"time must lie between {EARLIEST.date()} and a day from now")
    return t


When = Annotated[AwareDatetime, AfterValidator(_plausible)]


class EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Id = Field(description="unique per event; a resend with the same id and content is a no-op")
    client_id: Id = Field(description="the viewer's installation (pseudonymous)")
    session_id: Id
    experiment: Id | None = None
    variant: Id | None = None
    time: When
    fg: PresetId
    bg: PresetId

    @model_validator(mode="after")
    def _experiment_and_variant_together(self):
        if (self.experiment is None) != (self.variant is None):
            raise ValueError("experiment and variant come together or not at all")
        return self

    def digest(self) -> str:
        """The content's hash: a resent event must match it, else its id is reused for something else."""
        doc = self.model_dump(mode="json")
        doc["time"] = self.time.astimezone(UTC).isoformat()
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class Shown(EventBase):
    type: Literal["shown"]


class Dwell(EventBase):
    type: Literal["dwell"]
    dwell_s: float = Field(gt=0, le=MAX_DWELL_S, allow_inf_nan=False, description="seconds the pair stayed on screen")


class Skip(EventBase):
    type: Literal["skip"]
    after_s: float = Field(ge=0, le=MAX_DWELL_S, allow_inf_nan=False, description="seconds before the viewer skipped")


class Rate(EventBase):
    type: Literal["rate"]
    rating: int = Field(ge=1, le=5, strict=True)


Event = Annotated[Shown | Dwell | Skip | Rate, Field(discriminator="type")]


_EXAMPLE = {
    "client_id": "viewer-7f3a",
    "session_id": "s-0193",
    "time": "2026-11-30T21:14:05Z",
    "fg": "9f2c4e1a",
    "bg": "03b7d2aa",
}
EXAMPLE_BATCH = {
    "events": [
        dict(_EXAMPLE, event_id="ev-1", type="shown"),
        dict(_EXAMPLE, event_id="ev-2", type="dwell", dwell_s=41.5),
        dict(_EXAMPLE, event_id="ev-3", type="rate", rating=4),
    ]
}


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_BATCH]})
    events: list[Event] = Field(min_length=1, max_length=MAX_BATCH)


class BatchResult(BaseModel):
    received: int
    stored: int
    duplicates: int  # already stored with the same content (a client's retry)


class ExposureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: Id
    time: When


class Exposure(BaseModel):
    experiment: str
    client_id: str
    variant: str
    first_time: datetime
