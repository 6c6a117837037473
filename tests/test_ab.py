"""A/B analysis: per-client metrics, Welch's test with intervals, the fixed-horizon guard, the report
from the store, and simulations: a planted +10 % found at the documented power, A/A within alpha."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aivj.ab.cli import main as ab_main
from aivj.ab.report import build_report
from aivj.ab.simulate import AbSim, detection_rate
from aivj.ab.stats import client_metrics, compare, horizon
from aivj.feedback.assign import Experiment
from aivj.feedback.events import Dwell, Shown, Skip
from aivj.feedback.store import FeedbackStore

EXP = Experiment("abtest", {"control": 1.0, "head": 1.0}, mde=0.10, baseline_cv=0.3)


def test_client_metrics_reduce_events_to_one_row_per_client():
    ev = pd.DataFrame(
        {
            "client_id": ["a", "a", "a", "a", "b", "b"],
            "session_id": ["s1", "s1", "s2", "s2", "t1", "t1"],
            "type": ["shown", "dwell", "shown", "skip", "shown", "dwell"],
            "dwell_s": [np.nan, 10.0, np.nan, np.nan, np.nan, 30.0],
        }
    )
    m = client_metrics(ev)
    assert m.loc["a"].tolist() == [2, 10.0, 0.5, 1.0, 2] and m.loc["b"].tolist() == [1, 30.0, 0.0, 0.0, 1]


def test_welch_matches_scipy_and_its_interval_covers_the_truth():
    rng = np.random.default_rng(3)
    c, t = rng.normal(10, 2, 400), rng.normal(11, 3, 300)
    r = compare("mean_dwell", c, t, 0.05)
    assert math.isclose(r.p_value, stats.ttest_ind(t, c, equal_var=False).pvalue, rel_tol=1e-9)
    assert r.diff_ci[0] < 1.0 < r.diff_ci[1] and r.lift_ci[0] < 0.1 < r.lift_ci[1]
    assert horizon(0.05, 0.8, 0.10, 0.6) == 566  # 2 (1.96 + 0.8416)^2 0.36 / 0.01 = 565.2


def _store_with(tmp_path, clients: int) -> FeedbackStore:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb.db'}")
    now, batch = datetime.now(UTC), []
    for i in range(clients):
        cid = f"v{i}"
        arm = EXP.assign(cid)
        store.log_exposure(EXP.name, cid, arm, now, "test")
        base = dict(client_id=cid, session_id="s1", experiment=EXP.name, variant=arm, time=now, fg="ab" * 4, bg="cd" * 4)
        batch += [
            Shown(event_id=f"{cid}-1", type="shown", **base),
            Dwell(event_id=f"{cid}-2", type="dwell", dwell_s=20.0 + i % 7, **base),
        ]
        if i % 3 == 0:
            batch.append(Skip(event_id=f"{cid}-3", type="skip", after_s=1.0, **base))
    store.add_events(batch, "t")
    return store


def test_no_test_before_the_horizon_and_a_mismatched_arm_is_refused(tmp_path):
    store = _store_with(tmp_path, 40)
    events = pd.DataFrame(store.read_events(experiment=EXP.name))
    exposures = pd.DataFrame(store.read_exposures(EXP.name))
    rep = build_report(EXP, events, exposures)
    assert not rep.at_horizon and rep.comparisons == [] and "no test before the horizon" in rep.verdict
    assert sum(rep.clients.values()) == 40 and rep.per_arm.loc["control", "skip_rate"] > 0
    bad = exposures.copy()
    bad.loc[0, "variant"] = "head" if bad.loc[0, "variant"] == "control" else "control"
    with pytest.raises(ValueError, match="name another arm"):
        build_report(EXP, events, bad)


def test_the_report_command_reads_the_store(tmp_path, capsys):
    store = _store_with(tmp_path, 2 * horizon(0.05, 0.8, 0.3, 0.3) + 16)  # an experiment sized for a +30 % lift
    (tmp_path / "exps").mkdir()
    (tmp_path / "exps" / "abtest.yaml").write_text("variants: {control: 1, head: 1}\nmde: 0.3\nbaseline_cv: 0.3\n")
    code = ab_main(["report", "abtest", "--set", f"store_url={store.url}", "--set", f"experiments_dir={tmp_path / 'exps'}"])
    out = capsys.readouterr().out
    assert code == 0 and "mean_dwell" in out and "horizon 16 per arm" in out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("mean_dwell: ") and "(p=" in verdict  # at the horizon: the test ran and decided


@pytest.mark.slow
def test_a_planted_lift_is_found_at_the_documented_power_and_aa_stays_within_alpha():
    reps = 300
    power = detection_rate(EXP, AbSim(lift=0.10), reps, seed=1)
    false_pos = detection_rate(EXP, AbSim(lift=0.0), reps, seed=2)
    print(f"power {power:.3f} (documented {EXP.power}), A/A false positives {false_pos:.3f} (alpha {EXP.alpha})")
    se_power, se_alpha = math.sqrt(EXP.power * (1 - EXP.power) / reps), math.sqrt(EXP.alpha * (1 - EXP.alpha) / reps)
    assert abs(power - EXP.power) < 3 * se_power
    assert false_pos < EXP.alpha + 3 * se_alpha
