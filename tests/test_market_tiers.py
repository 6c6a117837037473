"""Tiers: the free tier sees the top elite templates only, anonymously and rate-limited; premium (an API
key, stored hashed) sees the whole library and its own uploads and downloads; premium content never
reaches a free request, through any route."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from fastapi.testclient import TestClient

from aivj.market.app import create_market_app
from aivj.milk.hashing import content_hash
from tests.helpers.market import FREE_TOP, N_ELITE, build, make_market, milk_text, open_store, pair_body


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A built market with one upload by alice; free, alice and bob clients."""
    m = make_market(tmp_path_factory.mktemp("market"))
    build(m)
    store = open_store(m)
    clock = Clock()
    app = create_market_app(m.cfg, store, m.scorer, m.frames, clock=clock)
    alice, bob = app.state.keys.issue("alice"), app.state.keys.issue("bob")
    client = TestClient(app)
    body = pair_body(milk_text(np.random.default_rng(50)), milk_text(np.random.default_rng(51)))
    upload = client.post("/api/uploads", json=body, headers={"X-API-Key": alice}).json()
    return m, store, client, {"X-API-Key": alice}, {"X-API-Key": bob}, upload, clock


def _premium_only(store, upload):
    return [r["id"] for r in store.elite[FREE_TOP:]] + [upload["id"]]


def test_free_tier_lists_the_top_elite_templates_only(world):
    m, store, client, *_ = world
    doc = client.get("/api/templates", params={"limit": 200}).json()
    assert doc["tier"] == "free" and doc["total"] == FREE_TOP
    assert [t["id"] for t in doc["templates"]] == [r["id"] for r in store.elite[:FREE_TOP]]
    assert not any(t["downloadable"] for t in doc["templates"])
    assert client.get("/api/tier").json() == {"tier": "free", "client": None, "templates": FREE_TOP}


def test_premium_content_never_reaches_a_free_request(world):
    m, store, client, alice, bob, upload, clock = world
    for tid in _premium_only(store, upload):
        clock.now += 60  # a full free bucket for each template's requests
        for route in ("", "/preview.webp", "/similar"):
            answer = client.get(f"/api/templates/{tid}{route}")
            assert answer.status_code == 404 and "free tier" in answer.json()["detail"], (tid, route)
        assert client.get(f"/api/templates/{tid}/download").status_code == 401
    free = {r["id"] for r in store.elite[:FREE_TOP]}
    for record in store.elite[:FREE_TOP]:
        clock.now += 60
        found = client.get(f"/api/templates/{record['id']}/similar", params={"k": 50}).json()["results"]
        assert {t["id"] for t in found} == free - {record["id"]}
    premium_text = (store.by_id[upload["id"]]["_dir"] / "fg.milk").read_text()
    found = client.post("/api/similar", json={"preset": premium_text}, params={"k": 50}).json()["results"]
    assert {t["id"] for t in found} <= free and len(found) == FREE_TOP
    assert client.post("/api/uploads", json=pair_body("a", "b")).status_code == 401


def test_premium_sees_the_library_and_its_own_uploads_not_anyone_elses(world):
    m, store, client, alice, bob, upload, _ = world
    mine = client.get("/api/templates", params={"limit": 200}, headers=alice).json()
    theirs = client.get("/api/templates", params={"limit": 200}, headers=bob).json()
    assert mine["total"] == N_ELITE + 1 and upload["id"] in {t["id"] for t in mine["templates"]}
    assert theirs["total"] == N_ELITE and upload["id"] not in {t["id"] for t in theirs["templates"]}
    assert client.get(f"/api/templates/{upload['id']}", headers=bob).status_code == 404
    assert client.get(f"/api/templates/{upload['id']}/download", headers=bob).status_code == 404
    last = store.elite[-1]
    assert client.get(f"/api/templates/{last['id']}", headers=bob).json()["rank"] == N_ELITE
    near = client.get(f"/api/templates/{last['id']}/similar", params={"k": 50}, headers=alice).json()["results"]
    assert upload["id"] in {t["id"] for t in near} and len(near) == N_ELITE  # all others but itself
    near_bob = client.get(f"/api/templates/{last['id']}/similar", params={"k": 50}, headers=bob).json()["results"]
    assert upload["id"] not in {t["id"] for t in near_bob}


def test_premium_downloads_a_bundle_with_the_texts_and_metadata(world):
    m, store, client, alice, *_ = world
    record = next(r for r in store.elite[FREE_TOP:] if r["fg"]["file"] and r["preview"])
    answer = client.get(f"/api/templates/{record['id']}/download", headers=alice)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as z:
        names = sorted(z.namelist())
        meta = json.loads(z.read("template.json"))
        texts = {n.split("/")[0]: z.read(n) for n in names if n.endswith(".milk")}
    assert names == sorted(
        ["template.json", "preview.webp", f"fg/{record['fg']['name']}.milk", f"bg/{record['bg']['name']}.milk"]
    )
    assert {side: content_hash(t) for side, t in texts.items()} == {"fg": record["fg"]["id"], "bg": record["bg"]["id"]}
    assert meta["rank"] == record["rank"] and meta["score"] == record["score"] and "features" not in meta["fg"]
    bare = next(r for r in store.elite if r["fg"]["file"] is None)
    refused = client.get(f"/api/templates/{bare['id']}/download", headers=alice)
    assert refused.status_code == 404 and "none of the preset folders" in refused.json()["detail"]


def test_an_unknown_key_is_refused_not_served_as_free(world):
    _, _, client, *_ = world
    answer = client.get("/api/templates", headers={"X-API-Key": "not-a-key"})
    assert answer.status_code == 401 and "leave it out for the free tier" in answer.json()["detail"]


def test_keys_are_stored_as_hashes_only(world):
    m, _, _, alice, *_ = world
    stored = (m.root / "api_keys.json").read_text()
    assert alice["X-API-Key"] not in stored and "alice" in stored


def test_the_free_tier_is_rate_limited_per_client_and_premium_is_not_held_by_it(world):
    m, _, client, alice, _, _, clock = world
    clock.now += 3600  # a full bucket
    limit = int(m.cfg.free_rate_limit_per_minute)
    answers = [client.get("/api/tier").status_code for _ in range(limit + 1)]
    assert answers[:limit] == [200] * limit and answers[limit] == 429
    assert client.get("/api/tier", headers=alice).status_code == 200
    clock.now += 60.0 / limit  # one token back
    assert client.get("/api/tier").status_code == 200 and client.get("/api/tier").status_code == 429
