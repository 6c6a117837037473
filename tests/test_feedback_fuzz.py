"""The feedback API's OpenAPI spec, fuzzed with schemathesis: valid and invalid inputs from the schema,
no 5xx, every response as documented, invalid data refused, and nothing accepted that breaks an
invariant stated here independently of the pydantic models."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from aivj.feedback.api import create_feedback_app
from aivj.feedback.assign import Experiment
from aivj.services.settings import ServiceSettings

ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
PRESET = re.compile(r"^[0-9a-f]{8,64}$")
ACCEPTED = {"shown": set(), "dwell": {"dwell_s"}, "skip": {"after_s"}, "rate": {"rating"}}
BASE = {"event_id", "client_id", "session_id", "experiment", "variant", "time", "fg", "bg", "type"}


def assert_valid_event(ev: dict) -> None:
    kind = ev["type"]
    assert kind in ACCEPTED and set(ev) <= BASE | ACCEPTED[kind], ev
    assert all(ID.match(ev[k]) for k in ("event_id", "client_id", "session_id")), ev
    assert PRESET.match(ev["fg"]) and PRESET.match(ev["bg"]), ev
    assert (ev.get("experiment") is None) == (ev.get("variant") is None), ev
    if kind == "dwell":
        assert 0 < ev["dwell_s"] <= 6 * 3600, ev
    if kind == "skip":
        assert 0 <= ev["after_s"] <= 6 * 3600, ev
    if kind == "rate":
        assert type(ev["rating"]) is int and 1 <= ev["rating"] <= 5, ev


# schemathesis' pytest plugin reads the schema at collection, so the app is built at import, in a temp
# folder removed when the module's tests end.
_HOME = tempfile.TemporaryDirectory(prefix="aivj-feedback-fuzz-")
_EXP = Experiment("fuzz_exp", {"a": 1.0, "b": 1.0})
APP = create_feedback_app(
    ServiceSettings(name="feedback", data_dir=Path(_HOME.name), rate_limit_per_minute=10**6), experiments={_EXP.name: _EXP}
)
KEY = APP.state.keys.issue("fuzzer")
STATUSES: Counter = Counter()  # (path, status) -> cases, read by the last test
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schema.config.generation.update(max_examples=60, with_security_parameters=False)  # our key, not generated ones


@pytest.fixture(scope="module", autouse=True)
def _remove_home():
    yield
    APP.state.store.engine.dispose()
    _HOME.cleanup()


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_the_feedback_api(case):
    response = case.call(headers={"X-API-Key": KEY})
    # not_a_server_error, status/schema conformance, negative data rejected; schema-valid data may still be
    # refused by the rules JSON Schema cannot state (time within bounds, a known experiment and its arm)
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    STATUSES[(case.path, response.status_code)] += 1
    if case.path == "/events" and response.status_code == 200:
        for ev in case.body["events"]:
            assert_valid_event(ev)


def test_the_fuzz_run_reached_the_store_and_the_validator():
    """Runs after the fuzz test (file order): the run is only worth its time if some generated batches were
    stored and some refused, and what was stored holds the invariants above."""
    print(dict(STATUSES))
    assert STATUSES[("/events", 200)] > 0 and STATUSES[("/events", 422)] > 0
    stored = APP.state.store.read_events()
    assert len(stored) > 0
    for row in stored:
        assert_valid_event({k: v for k, v in row.items() if v is not None})
