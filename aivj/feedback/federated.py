"""Federated training of the preference head: FedAvg over clients whose raw feedback never leaves them.

A ``LocalClient`` (Flower's NumPyClient shape: ``get_parameters`` / ``fit`` / ``evaluate``) holds its
viewer's raw events; ``fit`` turns them into labels, trains the head from the server's weights and
returns only (weights, number of labelled pairs, {"loss"}). ``run_fedavg`` is the server loop: every
message to and from a client goes through ``Boundary``, which serialises it as Flower does (``np.save``
bytes) and keeps the bytes, so a test can read exactly what crossed.

Aggregation is Flower's ``FedAvg.aggregate_fit`` when ``flwr`` is installed (the ``federated`` extra),
else the same example-weighted mean here: every flwr release pins protobuf < 7, and 1.42 pins fastapi
0.138 and starlette 1.3, below what this project runs on (docs/feedback.md), so ``make test`` does not
install it and the two must agree (tests/test_feedback_federated.py checks them against each other when
flwr is importable). After FedAvg each client may personalise: a few local steps from the federated
head, pulled towards it (``personalise``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from aivj.feedback.preference import LabelRule, PreferenceHead, fit_head, labels


def to_bytes(arrays: list[np.ndarray]) -> list[bytes]:
    out = []
    for a in arrays:
        buf = io.BytesIO()
        np.save(buf, np.asarray(a), allow_pickle=False)
        out.append(buf.getvalue())
    return out


def from_bytes(blobs: list[bytes]) -> list[np.ndarray]:
    return [np.load(io.BytesIO(b), allow_pickle=False) for b in blobs]


@dataclass
class Boundary:
    """Everything that crossed between the server and the clients, as bytes on the wire."""

    log: list[tuple[int, str, str, list[bytes], int | None, dict]] = field(default_factory=list)

    def send(self, rnd: int, cid: str, weights: list[np.ndarray]) -> list[np.ndarray]:
        blobs = to_bytes(weights)
        self.log.append((rnd, cid, "to_client", blobs, None, {}))
        return from_bytes(blobs)

    def receive(self, rnd: int, cid: str, reply: tuple[list[np.ndarray], int, dict]) -> tuple[list[np.ndarray], int, dict]:
        weights, n, metrics = reply
        blobs = to_bytes(weights)
        metrics = {str(k): float(v) for k, v in metrics.items()}
        self.log.append((rnd, cid, "to_server", blobs, int(n), metrics))
        return from_bytes(blobs), int(n), metrics


class LocalClient:
    def __init__(
        self,
        cid: str,
        events: list[dict],
        pair_index: dict,
        emb: np.ndarray,
        score: np.ndarray,
        rule: LabelRule,
        steps: int = 20,
        lr: float = 0.05,
    ):
        self.cid, self._events, self.rule, self.steps, self.lr = cid, events, rule, steps, lr
        self._pair_index, self._emb, self._score = pair_index, emb, score  # the champion's view of this client's pack

    def _arrays(self) -> tuple[np.ndarray, ...]:
        lab = labels(self._events, self.rule)
        rows = np.array([self._pair_index[p] for p in lab], dtype=np.int64)
        y, w = (np.array([v[i] for v in lab.values()], dtype=np.float32) for i in (0, 1))
        return self._emb[rows], self._score[rows], y, w

    def _head(self, parameters: list[np.ndarray]) -> PreferenceHead:
        head = PreferenceHead(self._emb.shape[1])
        head.set_weights(parameters)
        return head

    def get_parameters(self, config: dict) -> list[np.ndarray]:
        return PreferenceHead(self._emb.shape[1]).get_weights()

    def fit(self, parameters: list[np.ndarray], config: dict) -> tuple[list[np.ndarray], int, dict]:
        head, (x, s, y, w) = self._head(parameters), self._arrays()
        loss = fit_head(head, x, s, y, w, steps=int(config.get("steps", self.steps)), lr=self.lr)
        return head.get_weights(), len(y), {"loss": loss}

    def personalise(self, parameters: list[np.ndarray], steps: int = 50, l2: float = 1e-2) -> PreferenceHead:
        """The federated head fine-tuned on this client's feedback; stays on the client."""
        head, (x, s, y, w) = self._head(parameters), self._arrays()
        fit_head(head, x, s, y, w, steps=steps, lr=self.lr, l2_to=parameters, l2=l2)
        return head


def weighted_mean(results: list[tuple[list[np.ndarray], int]]) -> list[np.ndarray]:
    total = sum(n for _, n in results)
    return [sum(w[i] * (n / total) for w, n in results) for i in range(len(results[0][0]))]


def fedavg(results: list[tuple[list[np.ndarray], int]], server_round: int = 1) -> list[np.ndarray]:
    """Example-weighted mean of the clients' weights (Flower's FedAvg when flwr is installed)."""
    try:
        from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
        from flwr.server.strategy import FedAvg
    except ImportError:
        return weighted_mean(results)
    fit = [(None, FitRes(Status(Code.OK, ""), ndarrays_to_parameters(w), n, {})) for w, n in results]
    params, _ = FedAvg(inplace=False).aggregate_fit(server_round, fit, [])
    return parameters_to_ndarrays(params)


def run_fedavg(
    clients: list[LocalClient], rounds: int, boundary: Boundary, initial: list[np.ndarray], steps: int = 20, progress=None
) -> list[np.ndarray]:
    weights = initial
    for rnd in range(1, rounds + 1):
        results = []
        for client in clients:
            sent = boundary.send(rnd, client.cid, weights)
            w, n, _ = boundary.receive(rnd, client.cid, client.fit(sent, {"steps": steps}))
            results.append((w, n))
        weights = fedavg(results, rnd)
        if progress is not None:
            progress(rnd)
    return weights
