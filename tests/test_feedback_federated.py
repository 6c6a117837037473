"""The federated preference head: on viewers whose tastes differ it beats the champion's ranking on each
viewer's held-out feedback, and only head weights, a count and a loss cross the client boundary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aivj.feedback.federated import fedavg, from_bytes, weighted_mean
from aivj.feedback.preference import PreferenceHead, labels, pair_embeddings, pairwise_agreement
from aivj.feedback.simulate import SimConfig, simulate
from aivj.inference.scorer import Scorer
from coupling.nets.coupling_net import DualLayerCouplingNetwork


@pytest.fixture(scope="module")
def pool():
    """Pair embeddings of a small coupling network through Scorer (the champion's path, untrained weights)."""
    torch.manual_seed(0)
    scorer = Scorer(DualLayerCouplingNetwork(dim=16, heads=2, hidden=32).eval(), "tiny")
    rng = np.random.default_rng(0)
    enc = scorer.encode_presets(rng.normal(size=(80, 64)).astype(np.float32))
    codes = np.unique(rng.integers(0, 80, size=(1500, 2)), axis=0)
    emb, score = pair_embeddings(scorer, enc, codes[:, 0], codes[:, 1])
    assert emb.shape == (len(codes), 32) and np.allclose(score, scorer.score_pairs(enc, codes[:, 0], codes[:, 1]))
    return emb, score, [(f"{a:08x}", f"{b:08x}") for a, b in codes]


@pytest.fixture(scope="module")
def result(pool):
    return simulate(*pool, SimConfig(clients=12))


def test_the_federated_head_beats_the_champion_on_every_viewers_held_out_feedback(result):
    agree = result.agreement
    print({k: np.round(v, 3).tolist() for k, v in agree.items()})
    assert len(agree["champion"]) == 12
    assert (agree["fedavg+personal"] > agree["champion"]).all()
    assert agree["fedavg+personal"].mean() > agree["fedavg"].mean() > 0.5


def test_only_weights_a_count_and_a_loss_cross_the_client_boundary(result, pool):
    emb, _, _ = pool
    shapes = [w.shape for w in PreferenceHead(emb.shape[1]).get_weights()]
    raw = {cid: evs for cid, evs in result.events.items()}
    assert len(result.boundary.log) == 2 * 12 * SimConfig().rounds
    for _round, cid, direction, blobs, n, metrics in result.boundary.log:
        arrays = from_bytes(blobs)
        assert [a.shape for a in arrays] == shapes and all(a.dtype == np.float64 for a in arrays)
        if direction == "to_server":
            assert set(metrics) == {"loss"} and n == len(labels(_train(result, cid)))
        else:
            assert n is None and metrics == {}
        wire = b"".join(blobs)
        for ev in raw[cid][:50]:
            for text in (ev["event_id"], ev["fg"], ev["bg"], ev["client_id"]):
                assert text.encode() not in wire
            for key in ("dwell_s", "after_s"):
                if key in ev:
                    assert np.float64(ev[key]).tobytes() not in wire


def _train(result, cid):
    return next(c for c in result.clients if c.cid == cid)._events


def test_fedavg_is_the_example_weighted_mean():
    a, b = [np.ones(2), np.zeros(3)], [np.zeros(2), np.ones(3) * 4]
    out = fedavg([(a, 1), (b, 3)])
    assert np.allclose(out[0], 0.25) and np.allclose(out[1], 3.0)
    assert all(np.allclose(x, y) for x, y in zip(out, weighted_mean([(a, 1), (b, 3)])))


def test_labels_and_agreement():
    evs = [
        dict(type="rate", fg="a", bg="b", rating=5),
        dict(type="skip", fg="a", bg="c", after_s=2.0),
        dict(type="dwell", fg="a", bg="d", dwell_s=30.0),
        dict(type="shown", fg="a", bg="e"),
    ]
    lab = labels(evs)
    assert lab == {("a", "b"): (1.0, 1.0), ("a", "c"): (0.0, 0.5), ("a", "d"): (0.5, 0.5)}
    assert pairwise_agreement(np.array([3, 1, 2]), np.array([1.0, 0.0, 0.5])) == 1.0
    assert pairwise_agreement(np.array([1, 3, 2]), np.array([1.0, 0.0, 0.5])) == 0.0
