"""``aivj ab``: an experiment's report from the feedback store, and the power / false-positive simulations.

aivj ab report preference_head                 # per-arm metrics; the test once both arms reach the horizon
aivj ab simulate preference_head --reps 400    # power at a planted +10 %, A/A false positives, peeking's cost
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from aivj.cli import one_line
from aivj.configs import config_options

EXIT_NOTHING_USABLE = 2


def _report(args) -> int:
    from aivj.ab.report import build_report
    from aivj.feedback.assign import load_experiments
    from aivj.feedback.config import load_config, store_url
    from aivj.feedback.store import EVENT_COLUMNS, FeedbackStore

    cfg = load_config(overrides=args.set)
    experiments = load_experiments(cfg.experiments_dir)
    if args.experiment not in experiments:
        print(f"aivj ab report: no experiment {args.experiment!r} (known: {sorted(experiments)})", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    store = FeedbackStore(store_url(cfg))
    events = pd.DataFrame(store.read_events(experiment=args.experiment), columns=EVENT_COLUMNS)
    exposures = pd.DataFrame(store.read_exposures(args.experiment), columns=["client_id", "variant", "first_time"])
    rep = build_report(experiments[args.experiment], events, exposures)
    print(f"experiment {args.experiment}: clients {rep.clients}, horizon {rep.horizon} per arm, sample-ratio p {rep.srm_p:.3g}")
    print(f"events {len(events)}, exposures {len(exposures)}")
    print(rep.per_arm.to_string(float_format=lambda v: f"{v:.4g}"))
    for c in rep.comparisons:
        print(
            f"{c.metric:<12} control {c.control:.4g}  treatment {c.treatment:.4g}  lift {c.lift:+.2%} "
            f"[{c.lift_ci[0]:+.2%}, {c.lift_ci[1]:+.2%}]  p {c.p_value:.3g}"
        )
    print(rep.verdict)
    return 0


def _simulate(args) -> int:
    from rich.progress import track

    from aivj.ab.simulate import AbSim, detection_rate
    from aivj.ab.stats import horizon
    from aivj.feedback.assign import load_experiments
    from aivj.feedback.config import load_config

    experiments = load_experiments(load_config(overrides=args.set).experiments_dir)
    if args.experiment not in experiments:
        print(f"aivj ab simulate: no experiment {args.experiment!r} (known: {sorted(experiments)})", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    exp = experiments[args.experiment]
    runs = {"power at +10%": (AbSim(lift=exp.mde), 1), "A/A false positives": (AbSim(lift=0.0), 1)}
    if args.peeks > 1:
        runs[f"A/A peeking x{args.peeks}"] = (AbSim(lift=0.0), args.peeks)
    out = {"experiment": exp.name, "horizon_per_arm": horizon(exp.alpha, exp.power, exp.mde, exp.baseline_cv), "reps": args.reps}
    for i, (name, (sim, peeks)) in enumerate(track(runs.items(), description="simulating", transient=True)):
        out[name] = detection_rate(exp, sim, args.reps, seed=args.seed + i, peeks=peeks)
    print(json.dumps(out, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="aivj ab", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    options = config_options("feedback")  # the store and experiments_dir are the feedback config's
    rep = sub.add_parser("report", parents=[options], help="an experiment's metrics and test")
    rep.add_argument("experiment")
    sim = sub.add_parser("simulate", parents=[options], help="power and false-positive rate by simulation")
    sim.add_argument("experiment")
    sim.add_argument("--reps", type=int, default=400)
    sim.add_argument("--peeks", type=int, default=10, help="interim looks for the peeking comparison (1: none)")
    sim.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        return _report(args) if args.command == "report" else _simulate(args)
    except ValueError as exc:  # a bad --set or config: one line (ConfigError names the file)
        print(f"aivj ab {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_NOTHING_USABLE


if __name__ == "__main__":
    raise SystemExit(main())
