"""``aivj serve``: scores with the registry's champion, top-k of a pack, hot swap, latency and gate metrics."""

from __future__ import annotations

import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from aivj.contract.schema import FEATURE_DIM
from aivj.inference import load_scorer
from aivj.registry import Registry
from aivj.services.app import API_KEY_HEADER
from aivj.services.settings import ServiceSettings
from aivj.serving.app import create_scoring_app
from tests.helpers.tiny_module import trust_test_helpers
from tests.helpers.tiny_versions import PASSING, register_tiny
from tests.test_export_pairs_quality import MILK, make_pack


@pytest.fixture
def versions(tmp_path, monkeypatch):
    """A registry of two tiny versions (different weights), the first one champion."""
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    trust_test_helpers(monkeypatch)
    reg_dir = tmp_path / "registry"
    first = register_tiny(reg_dir, tmp_path, PASSING, "first", seed=0)
    second = register_tiny(reg_dir, tmp_path, {**PASSING, "golden/pass_rate": 0.985}, "second", seed=1)
    Registry(reg_dir).set_champion(first, "test")
    return reg_dir, first, second


def _service(tmp_path, reg_dir, poll=None):
    settings = ServiceSettings(name="scoring", data_dir=tmp_path / "svc")
    app = create_scoring_app(settings, reg_dir, packs_root=tmp_path, poll_seconds=poll)
    return app, {API_KEY_HEADER: app.state.keys.issue("tester")}


def _presets(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, FEATURE_DIM)).astype(np.float32)


def test_score_gives_the_champions_own_scores_and_counts_latency(tmp_path, versions):
    reg_dir, first, _ = versions
    app, key = _service(tmp_path, reg_dir)
    client = TestClient(app)
    static = _presets(4)
    body = {"presets": [{"features": row.tolist()} for row in static], "pairs": [[0, 1], [2, 3], [3, 0]]}
    assert client.post("/score", json=body).status_code == 401  # behind the API key
    answer = client.post("/score", json=body, headers=key).json()
    expected = load_scorer(first, reg_dir).score_presets(static, [0, 2, 3], [1, 3, 0])
    assert answer["version"] == first and answer["path"] == "static" and answer["static_path"]["passes"]
    np.testing.assert_allclose(answer["scores"], expected, atol=1e-5)
    metrics = client.get("/metrics").text
    assert 'aivj_inference_latency_seconds_count{endpoint="score"} 1.0' in metrics
    assert 'aivj_inference_latency_seconds_bucket{endpoint="score",le="0.0001"}' in metrics


def test_milk_text_scores_like_its_features(tmp_path, versions):
    from aivj.milk.features import extract_features
    from aivj.milk.parser import parse_milk

    app, key = _service(tmp_path, versions[0])
    client = TestClient(app)
    milk = [MILK.format(decay=0.95, warp=w, zoom=1.0, rot=0.1, mode=2, k=1.0) for w in (0.5, 3.0)]
    feats = [extract_features(parse_milk(m, "x")).tolist() for m in milk]
    by_text = client.post("/score", json={"presets": [{"milk": m} for m in milk], "pairs": [[0, 1]]}, headers=key).json()
    by_feats = client.post("/score", json={"presets": [{"features": f} for f in feats], "pairs": [[0, 1]]}, headers=key).json()
    assert by_text["scores"] == pytest.approx(by_feats["scores"])


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"presets": [{"features": [0.0] * 3}], "pairs": [[0, 0]]}, "presets[0].features: need 64 finite numbers, got 3"),
        ({"presets": [{}], "pairs": [[0, 0]]}, "presets[0]: give exactly one of features, milk"),
        ({"presets": [{"features": [0.0] * 64}], "pairs": [[0, 1]]}, "pairs[0] = [0, 1]: indices must lie in 0..0"),
        ({"presets": [{"milk": "\x00\x01 not a preset"}], "pairs": [[0, 0]]}, "presets[0]"),
    ],
)
def test_bad_requests_get_one_line_naming_the_item(tmp_path, versions, body, says):
    app, key = _service(tmp_path, versions[0])
    response = TestClient(app).post("/score", json=body, headers=key)
    assert response.status_code == 422 and says in response.json()["detail"] and "\n" not in response.json()["detail"]


def test_top_k_of_a_pack_is_the_best_k_of_every_usable_pair(tmp_path, versions):
    reg_dir, first, _ = versions
    make_pack(tmp_path, n=8, missing=(3,), broken=())
    app, key = _service(tmp_path, reg_dir)
    client = TestClient(app)
    answer = client.get("/packs/coupled_test_pack/top", params={"k": 3}, headers=key).json()
    full = load_scorer(first, reg_dir).score_pack(tmp_path / "coupled_test_pack")
    best = sorted(zip(full.scores.tolist(), full.pair_ids), reverse=True)[:3]
    assert [t["pair"] for t in answer["top"]] == [p for _, p in best]
    assert [t["score"] for t in answer["top"]] == pytest.approx([s for s, _ in best], abs=1e-6)
    assert answer["pairs"] == {"scored": 7, "set_aside": 0, "missing_presets": 1}  # 8 pairs, one FG file missing
    assert client.get("/packs/no_such_pack/top", headers=key).status_code == 404
    assert client.get("/packs/..%2F..%2Fetc/top", headers=key).status_code == 404
    assert 'aivj_inference_latency_seconds_count{endpoint="top_k"} 1.0' in client.get("/metrics").text


def test_the_champion_is_swapped_when_the_pointer_moves_and_gauges_follow(tmp_path, versions):
    reg_dir, first, second = versions
    app, key = _service(tmp_path, reg_dir)
    client = TestClient(app)
    body = {"presets": [{"features": row.tolist()} for row in _presets(2)], "pairs": [[0, 1]]}
    before = client.post("/score", json=body, headers=key).json()
    metrics = client.get("/metrics").text
    assert f'aivj_champion_info{{version="{first}"}} 1.0' in metrics
    assert 'aivj_golden_pass_rate{path="render"} 0.99' in metrics and 'aivj_drift_kl{path="render"} 0.02' in metrics
    assert 'aivj_golden_pass_rate{path="static"} 0.8' in metrics

    Registry(reg_dir).set_champion(second, "test")
    assert app.state.holder.refresh() and not app.state.holder.refresh()  # swaps once
    after = client.post("/score", json=body, headers=key).json()
    assert after["version"] == second and after["scores"] != before["scores"]
    metrics = client.get("/metrics").text
    assert f'aivj_champion_info{{version="{second}"}} 1.0' in metrics and first not in metrics
    assert 'aivj_golden_pass_rate{path="render"} 0.985' in metrics


def test_the_watcher_swaps_by_itself_and_a_broken_version_leaves_the_old_one_serving(tmp_path, versions):
    reg_dir, first, second = versions
    app, key = _service(tmp_path, reg_dir, poll=0.05)
    broken = register_tiny(reg_dir, tmp_path, PASSING, "broken", seed=2)
    (Registry(reg_dir).checkpoint(broken)).write_bytes(b"not a checkpoint")
    with TestClient(app) as client:  # runs the lifespan: the watcher thread
        Registry(reg_dir).set_champion(second, "test")
        deadline = time.monotonic() + 30
        while client.get("/champion", headers=key).json()["version"] != second and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/champion", headers=key).json()["version"] == second
        Registry(reg_dir).set_champion(broken, "test")
        while broken not in app.state.holder.failed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert broken in app.state.holder.failed
        assert client.get("/champion", headers=key).json()["version"] == second
        assert "aivj_champion_load_failures_total 1.0" in client.get("/metrics").text
    assert app.state.holder._thread is None  # stopped with the app


def test_a_version_that_failed_is_tried_again_only_after_the_pointer_moved(tmp_path, versions):
    reg_dir, first, second = versions
    app, _ = _service(tmp_path, reg_dir)
    holder, reg = app.state.holder, Registry(reg_dir)
    broken = register_tiny(reg_dir, tmp_path, PASSING, "broken", seed=2)
    reg.checkpoint(broken).write_bytes(b"not a checkpoint")
    failures = lambda: TestClient(app).get("/metrics").text.count("aivj_champion_load_failures_total 1.0")  # noqa: E731
    reg.set_champion(broken, "test")
    assert not holder.refresh() and not holder.refresh() and holder.get().version == first
    assert failures() == 1  # one try while the pointer stays on it
    reg.set_champion(second, "test")
    assert holder.refresh() and holder.get().version == second
    reg.set_champion(broken, "test")
    assert not holder.refresh() and "aivj_champion_load_failures_total 2.0" in TestClient(app).get("/metrics").text
