"""Simulated experiments with a known answer: a planted lift must be found at the documented power, and
an A/A test must stay within its false-positive rate. They run the real path: ``assign`` by hash,
``client_metrics`` from event rows, ``build_report`` at the horizon.

A client's true mean dwell is lognormal around ``base_dwell_s`` with a between-client spread chosen so
that, with ``within_sigma`` noise on each of ~``dwell_events`` dwells, the per-client mean has the
experiment's ``baseline_cv`` (the figure its horizon is sized from). Treatment multiplies the true mean
by ``1 + lift``. ``peeks`` > 1 runs the test at equally spaced interim looks and stops at the first
p < alpha: what the fixed horizon forbids, to show what it would cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aivj.ab.report import build_report
from aivj.ab.stats import client_metrics, compare, horizon
from aivj.feedback.assign import Experiment


@dataclass(frozen=True)
class AbSim:
    lift: float = 0.10
    base_dwell_s: float = 30.0
    within_sigma: float = 0.5
    dwell_events: int = 10
    skip_prob: float = 0.2
    return_prob: float = 0.4


def _between_sigma(cv: float, sim: AbSim) -> float:
    within_cv2 = (math.exp(sim.within_sigma**2) - 1) / (sim.dwell_events * (1 - sim.skip_prob))  # skips leave fewer dwells
    between_cv2 = max((cv * cv - within_cv2) / (1 + within_cv2), 1e-6)
    return math.sqrt(math.log1p(between_cv2))


def enrol(exp: Experiment, need: int, tag: str) -> tuple[np.ndarray, np.ndarray]:
    """Client ids in arrival order until every arm holds ``need`` (the fixed horizon's stopping rule), with their arms."""
    ids, arms, counts = [], [], dict.fromkeys(exp.variants, 0)
    while min(counts.values()) < need:
        cid = f"{tag}-c{len(ids)}"
        arm = exp.assign(cid)
        ids.append(cid)
        arms.append(arm)
        counts[arm] += 1
    return np.array(ids, dtype=object), np.array(arms, dtype=object)  # object: pandas' arrow strings are slower here


def simulate_events(exp: Experiment, need: int, sim: AbSim, rng, tag: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exposures and events of clients enrolled until each arm has ``need``; the non-control arms get the planted lift."""
    ids, arms = enrol(exp, need, tag)
    n_clients = len(ids)
    sb = _between_sigma(exp.baseline_cv, sim)
    true = sim.base_dwell_s * np.exp(sb * rng.normal(size=n_clients) - sb * sb / 2)
    true = np.where(arms == exp.control, true, true * (1 + sim.lift))
    k = 1 + rng.poisson(sim.dwell_events - 1, size=n_clients)
    owner = np.repeat(np.arange(n_clients), k)
    dwell = true[owner] * np.exp(sim.within_sigma * rng.normal(size=len(owner)) - sim.within_sigma**2 / 2)
    skipped = rng.random(len(owner)) < sim.skip_prob
    returned = rng.random(n_clients) < sim.return_prob
    client = ids[owner]
    session = np.where(returned[owner] & (rng.random(len(owner)) < 0.5), "s2", "s1")
    session = session.astype(object)
    shown = pd.DataFrame({"client_id": client, "session_id": session, "type": "shown", "dwell_s": np.nan})
    acted = pd.DataFrame(
        {
            "client_id": client,
            "session_id": session,
            "type": np.where(skipped, "skip", "dwell").astype(object),
            "dwell_s": np.where(skipped, np.nan, dwell),
        }
    )
    exposures = pd.DataFrame({"client_id": ids, "variant": arms})
    return pd.concat([shown, acted], ignore_index=True), exposures


def detection_rate(exp: Experiment, sim: AbSim, reps: int, seed: int = 0, peeks: int = 1) -> float:
    """Share of ``reps`` experiments whose primary test rejects at alpha (peeks > 1: at any interim look)."""
    rng = np.random.default_rng(seed)
    need = horizon(exp.alpha, exp.power, exp.mde, exp.baseline_cv)
    hits = 0
    for r in range(reps):
        events, exposures = simulate_events(exp, need, sim, rng, f"r{seed}-{r}")
        if peeks == 1:
            report = build_report(exp, events, exposures)
            if not report.at_horizon:
                raise RuntimeError(f"replication {r}: an arm below the horizon {need}: {report.clients}")
            hits += report.comparisons[0].p_value < exp.alpha
            continue
        per_client = client_metrics(events)
        arm = dict(zip(exposures["client_id"], exposures["variant"]))
        per_client["arm"] = [arm[c] for c in per_client.index]
        order = exposures["client_id"].to_numpy()  # exposure order = arrival order
        for look in range(1, peeks + 1):
            seen = per_client.loc[order[: len(order) * look // peeks]]
            c = seen.loc[seen["arm"] == exp.control, exp.primary].to_numpy()
            t = seen.loc[seen["arm"] != exp.control, exp.primary].to_numpy()
            if compare(exp.primary, c, t, exp.alpha).p_value < exp.alpha:
                hits += 1
                break
    return hits / reps
