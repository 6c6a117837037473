"""A federated simulation: viewers whose tastes differ, their feedback, and four rankings of what they kept back.

Tastes live where the head can see them: each viewer's utility of a pair is
``champion_weight * z(champion score) + Z @ w_k``, with ``Z`` the pair embedding's first ``taste_dims``
principal components (standardised) and ``w_k`` its taste group's centre plus a viewer's own jitter.
From the utility come events as a player would send them: a skip with probability
sigmoid(-skip_slope * u), else a dwell of ``dwell_half_s * exp(0.8 u + noise)``, and now and then a
rating. Each viewer's shown pairs are split into training and held-out feedback; a ranking is scored by
its pairwise agreement with the held-out labels (``preference.pairwise_agreement``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aivj.feedback.federated import Boundary, LocalClient, run_fedavg
from aivj.feedback.preference import LabelRule, PreferenceHead, fit_head, labels, pairwise_agreement


@dataclass(frozen=True)
class SimConfig:
    clients: int = 12
    taste_groups: int = 3
    taste_dims: int = 4
    taste_jitter: float = 0.35
    champion_weight: float = 0.5
    shown_per_client: int = 160
    held_out: float = 0.3
    rate_prob: float = 0.25
    skip_slope: float = 1.5
    rounds: int = 15
    local_steps: int = 20
    personal_steps: int = 50
    seed: int = 0


@dataclass
class SimResult:
    agreement: dict[str, np.ndarray]  # ranking -> per-client held-out agreement
    boundary: Boundary
    clients: list[LocalClient] = field(repr=False, default_factory=list)
    events: dict[str, list[dict]] = field(repr=False, default_factory=dict)  # raw events, per client (stayed local)


def _taste_space(emb: np.ndarray, dims: int) -> np.ndarray:
    x = emb - emb.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    z = x @ vt[:dims].T
    return z / (z.std(0) + 1e-9)


def client_events(cid: str, rows: np.ndarray, util: np.ndarray, pairs: list[tuple[str, str]], cfg: SimConfig, rng) -> list[dict]:
    rule = LabelRule()
    out = []
    for j, (r, u) in enumerate(zip(rows, util[rows])):
        fg, bg = pairs[r]
        base = dict(client_id=cid, session_id=f"{cid}-s{j // 20}", fg=fg, bg=bg)
        out.append(dict(base, event_id=f"{cid}-{j}-shown", type="shown"))
        if rng.random() < 1 / (1 + np.exp(cfg.skip_slope * u)):
            out.append(dict(base, event_id=f"{cid}-{j}-skip", type="skip", after_s=float(rng.uniform(1, 8))))
        else:
            dwell = rule.dwell_half_s * np.exp(0.8 * u + 0.3 * rng.normal())
            out.append(dict(base, event_id=f"{cid}-{j}-dwell", type="dwell", dwell_s=float(min(dwell, 21600.0))))
        if rng.random() < cfg.rate_prob:
            rating = int(np.clip(np.rint(3 + 1.2 * u + 0.5 * rng.normal()), 1, 5))
            out.append(dict(base, event_id=f"{cid}-{j}-rate", type="rate", rating=rating))
    return out


def _held_out_arrays(events: list[dict], index: dict, emb, score) -> tuple[np.ndarray, ...]:
    lab = labels(events)
    rows = np.array([index[p] for p in lab], dtype=np.int64)
    return emb[rows], score[rows], np.array([v[0] for v in lab.values()])


def simulate(
    emb: np.ndarray, score: np.ndarray, pairs: list[tuple[str, str]], cfg: SimConfig = SimConfig(), progress=None
) -> SimResult:
    """``emb`` [P, H], ``score`` [P] (the champion's, 0-5) of a pool of ``pairs`` (fg id, bg id)."""
    rng = np.random.default_rng(cfg.seed)
    z = _taste_space(emb, cfg.taste_dims)
    zs = (score - score.mean()) / (score.std() + 1e-9)
    centres = rng.normal(size=(cfg.taste_groups, cfg.taste_dims))
    index = {p: i for i, p in enumerate(pairs)}
    clients, held, events = [], {}, {}
    for k in range(cfg.clients):
        cid = f"viewer{k:02d}"
        taste = centres[k % cfg.taste_groups] + cfg.taste_jitter * rng.normal(size=cfg.taste_dims)
        util = cfg.champion_weight * zs + z @ taste
        rows = rng.choice(len(pairs), size=cfg.shown_per_client, replace=False)
        cut = int(len(rows) * (1 - cfg.held_out))
        train = client_events(cid, rows[:cut], util, pairs, cfg, rng)
        events[cid] = train + (test := client_events(cid, rows[cut:], util, pairs, cfg, rng))
        clients.append(LocalClient(cid, train, index, emb, score, LabelRule(), steps=cfg.local_steps))
        held[cid] = _held_out_arrays(test, index, emb, score)
    boundary = Boundary()
    initial = PreferenceHead(emb.shape[1]).get_weights()
    federated = run_fedavg(clients, cfg.rounds, boundary, initial, steps=cfg.local_steps, progress=progress)
    agreement: dict[str, list[float]] = {"champion": [], "fedavg": [], "fedavg+personal": [], "local only": []}
    shared = PreferenceHead(emb.shape[1])
    shared.set_weights(federated)
    for client in clients:
        x, s, y = held[client.cid]
        local = PreferenceHead(emb.shape[1])
        fit_head(local, *client._arrays(), steps=cfg.local_steps * cfg.rounds, lr=client.lr)
        agreement["champion"].append(pairwise_agreement(s, y))
        agreement["fedavg"].append(pairwise_agreement(shared.predict(x, s), y))
        agreement["fedavg+personal"].append(
            pairwise_agreement(client.personalise(federated, cfg.personal_steps).predict(x, s), y)
        )
        agreement["local only"].append(pairwise_agreement(local.predict(x, s), y))
    return SimResult({k: np.array(v) for k, v in agreement.items()}, boundary, clients, events)
