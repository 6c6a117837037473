"""Uploads: each rejection has its reason and leaves the store as it was; duplicates by content hash;
an accepted pair is scored by the champion, placed in the ranking and survives a restart."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from aivj.market.app import create_market_app
from aivj.market.uploads import Rejected, Uploader
from aivj.milk.features import extract_features
from aivj.milk.parser import parse_milk
from tests.helpers.market import build, make_market, milk_text, open_store, pair_body

GOOD_FG, GOOD_BG = milk_text(np.random.default_rng(100)), milk_text(np.random.default_rng(101))


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    m = make_market(tmp_path_factory.mktemp("market"))
    build(m)
    return m


@pytest.fixture
def service(market):
    store = open_store(market)
    app = create_market_app(market.cfg, store, market.scorer, market.frames)
    key = app.state.keys.issue("alice")
    return TestClient(app), {"X-API-Key": key}, store


def _state(root):
    """Every file under the store, with its size: what a rejected upload must not change."""
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.name != "api_keys.json")


BIG = "[preset00]\nzoom=1.0\n" + "per_frame_1=x=1;\n" * 20000
REJECTIONS = [
    (pair_body(GOOD_FG, GOOD_BG, fg_name="../etc/fg.milk"), 422, "FG '../etc/fg.milk': a bare file name only"),
    (pair_body(GOOD_FG, GOOD_BG, bg_name="C:\\presets\\bg.milk"), 422, "a bare file name only"),
    (pair_body(GOOD_FG, GOOD_BG, bg_name="bg.txt"), 422, "BG bg.txt: not a .milk file"),
    (pair_body(BIG, GOOD_BG), 413, "a preset may have at most 262144"),
    (pair_body("[preset00]\nzoom=1\x00\n", GOOD_BG), 422, "FG fg.milk: binary data (NUL bytes)"),
    (pair_body(GOOD_FG, GOOD_BG + "#!/bin/sh\nrm -rf /\n"), 422, "BG bg.milk: line 12 is not preset text: '#!/bin/sh'"),
    (pair_body(GOOD_FG + "per_frame_2=<script>alert(1)</script>\n", GOOD_BG), 422, "line 12 holds markup or a script"),
    (pair_body("just_a_word\nanother_word\n", GOOD_BG), 422, "no [preset00] section and no known MilkDrop key"),
    (pair_body(GOOD_FG, GOOD_FG), 422, "are the same preset; a template needs two"),
    ({"fg": {"name": "fg.milk", "text": GOOD_FG}}, 422, 'the body must be {"fg"'),
]


@pytest.mark.parametrize(("body", "status", "says"), REJECTIONS, ids=[r[2][:30] for r in REJECTIONS])
def test_a_rejected_upload_says_why_and_stores_nothing(service, body, status, says):
    client, key, store = service
    before, known = _state(store.root), set(store.by_id)
    answer = client.post("/api/uploads", json=body, headers=key)
    assert answer.status_code == status and says in answer.json()["detail"], answer.json()
    assert _state(store.root) == before and set(store.by_id) == known


def test_a_body_that_is_not_json_or_too_large_is_refused_before_parsing(service):
    client, key, store = service
    assert (
        client.post("/api/uploads", content=b"{not json", headers=key).json()["detail"]
        == "the body is not JSON (JSONDecodeError)"
    )
    huge = client.post("/api/uploads", content=b"x" * 800_000, headers=key)
    assert huge.status_code == 413 and "at most 786432" in huge.json()["detail"]


def test_an_accepted_pair_is_scored_by_the_champion_placed_and_kept_across_a_restart(market, service):
    client, key, store = service
    answer = client.post("/api/uploads", json=pair_body(GOOD_FG, GOOD_BG, "mine fg.milk", "mine bg.milk"), headers=key)
    assert answer.status_code == 201, answer.json()
    doc = answer.json()
    static = np.stack([extract_features(parse_milk(t, "x")) for t in (GOOD_FG, GOOD_BG)])
    expected = float(market.scorer.score_presets(static, [0], [1])[0])
    assert doc["score"] == pytest.approx(expected, abs=1e-5) and doc["scoring"]["path"] == "static"
    assert doc["rank"] == 1 + sum(r["score"] >= doc["score"] for r in store.elite)
    assert doc["owner"] == "alice" and doc["fg"]["name"] == "mine fg" and "not rendered" in doc["preview_note"]
    listed = client.get("/api/templates", headers=key).json()["templates"]
    assert [t["id"] for t in listed].index(doc["id"]) == [t["score"] for t in listed].index(doc["score"])
    again = open_store(market)  # a restart reads the bundle back
    assert again.by_id[doc["id"]]["rank"] == doc["rank"] and again.by_id[doc["id"]]["owner"] == "alice"
    duplicate = client.post("/api/uploads", json=pair_body(GOOD_FG, GOOD_BG, "other.milk", "names.milk"), headers=key)
    assert duplicate.status_code == 409 and duplicate.json()["detail"] == f"this pair is already in the market (template {doc['id']}, rank {doc['rank']})"  # fmt: skip
    swapped = client.post("/api/uploads", json=pair_body(GOOD_BG, GOOD_FG), headers=key)
    assert swapped.status_code == 201  # BG over FG is another template


def test_an_elite_pair_uploaded_again_is_a_duplicate_of_the_elite_template(market, service):
    client, key, store = service
    elite = next(r for r in store.elite if r["fg"]["file"])
    body = pair_body(*((elite["_dir"] / elite[s]["file"]).read_text() for s in ("fg", "bg")))
    answer = client.post("/api/uploads", json=body, headers=key)
    assert answer.status_code == 409 and f"template {elite['id']}, rank {elite['rank']}" in answer.json()["detail"]


def test_a_failure_while_writing_leaves_no_half_stored_upload(market, monkeypatch):
    store = open_store(market)
    uploader = Uploader(store, market.scorer, market.cfg, market.frames)
    before, known = _state(store.root), set(store.by_id)

    def fail(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("aivj.market.store.write_json_atomic", fail)  # the bundle's last file
    body = pair_body(milk_text(np.random.default_rng(7)), milk_text(np.random.default_rng(8)))
    with pytest.raises(OSError, match="disk full"):
        uploader.accept("bob", body)
    assert _state(store.root) == before and set(store.by_id) == known
    monkeypatch.undo()
    assert uploader.accept("bob", body)["owner"] == "bob"  # the same upload goes through once the disk is back


def test_the_checks_refuse_scripts_not_presets(market):
    """Debian's presets pass (all 13,460 files of both corpora did: docs/market.md); a script does not."""
    from pathlib import Path

    from aivj.market.uploads import check_text
    from aivj.milk.values import decode_milk

    debian = Path("/usr/share/projectM/presets")
    if not debian.is_dir():
        pytest.skip("projectm-data is not installed (make test installs it)")
    files = sorted(debian.rglob("*.milk"))[::10]
    for path in files:
        check_text("FG", path.name, decode_milk(path.read_bytes()), int(market.cfg.upload.max_preset_bytes))
    assert len(files) > 300
    uploader = Uploader(open_store(market), market.scorer, market.cfg, market.frames)
    with pytest.raises(Rejected, match="line 2 is not preset text"):
        uploader.validate(pair_body("[preset00]\nimport os; os.system('x')\n", GOOD_BG))


class _LandsWhileRead(dict):
    """An owner's upload record that makes another upload land while a reader walks the uploads."""

    def __init__(self, record, store, landing):
        super().__init__(record)
        self.store, self.landing = store, landing

    def get(self, key, default=None):
        if self.landing is not None:
            self.store._place(self.landing)
            self.landing = None
        return super().get(key, default)


def test_listing_and_nearest_read_whole_uploads_while_one_lands(market, service):
    client, key, store = service
    first = Uploader(store, market.scorer, market.cfg, market.frames).accept(
        "alice", pair_body(milk_text(np.random.default_rng(21)), milk_text(np.random.default_rng(22)))
    )
    landing = {**first, "id": "landing-" + first["id"]}
    store.uploads[first["id"]] = _LandsWhileRead(first, store, landing)
    assert first["id"] in [r["id"] for r in store.listing("alice")]  # no "dictionary changed size during iteration"
    assert landing["id"] in store.by_id and landing["id"] in [r["id"] for r in store.listing("alice")]
    store.uploads[first["id"]].landing = {**first, "id": "later-" + first["id"]}
    preset = store.space.z(np.asarray([first["fg"]["features"]], np.float32))[0]
    assert store.nearest("alice", preset=preset, k=3)
