"""``aivj feedback``: API keys, the store's counts, and the federated simulation; ``aivj serve feedback``: the API.

aivj serve feedback [--port 8010]                # the feedback API on uvicorn (SQLite under $AIVJ_HOME)
aivj serve feedback --issue-key webapp           # print a new API key for client "webapp" and exit
aivj feedback count [--set store_url=...]        # events stored
aivj feedback simulate --model champion          # federated head vs the champion, 12 simulated viewers
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from aivj.cli import debug_enabled, one_line
from aivj.configs import config_options
from aivj.feedback.config import load_config, store_url
from aivj.services.logs import redact_url

EXIT_NOTHING = 2


def _one_line_error(prog: str, exc: Exception, url: str | None = None) -> int:
    if debug_enabled():
        raise exc
    text = one_line(exc)
    if url:  # the store's error may quote its URL, password and all
        text = text.replace(url, redact_url(url))
    print(f"{prog}: {text}", file=sys.stderr)
    return EXIT_NOTHING


def serve_main(argv: list[str] | None = None) -> int:
    from aivj.services.cli import add_service_args, issue_key
    from aivj.services.settings import ServiceSettings

    p = argparse.ArgumentParser(prog="aivj serve feedback", description="the feedback API (docs/feedback.md)",
                                parents=[config_options("feedback")])  # fmt: skip
    add_service_args(p, "feedback")
    args = p.parse_args(argv)
    from aivj.feedback.api import MAX_BODY_BYTES

    settings = ServiceSettings(name="feedback", max_body_bytes=MAX_BODY_BYTES)
    if issue_key(args, settings):
        return 0
    url = None
    try:
        cfg = load_config(overrides=args.set)
        url = store_url(cfg)
        from aivj.feedback.api import create_feedback_app
        from aivj.feedback.assign import load_experiments
        from aivj.services.serve import serve

        app = create_feedback_app(settings, url, load_experiments(cfg.experiments_dir))
        print(f"aivj serve feedback: {redact_url(url)} on http://{args.host}:{args.port}", file=sys.stderr)
        serve(app, args.host, args.port)
    except (ValueError, OSError, RuntimeError) as exc:
        return _one_line_error("aivj serve feedback", exc, url)
    return 0


def _champion_pool(model: str, sim) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    from aivj.contract.layout import read_presets
    from aivj.feedback.preference import pair_embeddings
    from aivj.home import project_root
    from aivj.inference import load_scorer

    scorer = load_scorer(model)
    presets = read_presets(project_root() / "data/default", ["preset_id", "features"])
    rng = np.random.default_rng(sim.seed)
    rows = rng.choice(presets.num_rows, size=min(sim.presets, presets.num_rows), replace=False)
    ids = np.array(presets.column("preset_id").to_pylist(), dtype=object)[rows]
    static = np.stack(presets.column("features").to_numpy(zero_copy_only=False)[rows]).astype(np.float32)
    codes = np.unique(rng.integers(0, len(rows), size=(sim.pairs, 2)), axis=0)
    codes = codes[codes[:, 0] != codes[:, 1]]
    emb, score = pair_embeddings(scorer, scorer.encode_presets(static), codes[:, 0], codes[:, 1])
    return emb, score, [(ids[a], ids[b]) for a, b in codes]


def _simulate(args) -> int:
    from rich.progress import Progress

    from aivj.feedback.simulate import SimConfig, simulate

    cfg = load_config(overrides=args.set)
    sim = cfg.simulation
    emb, score, pairs = _champion_pool(args.model, sim)
    fields = {k: v for k, v in sim.items() if k in SimConfig.__dataclass_fields__}
    with Progress(transient=True) as bar:
        task = bar.add_task("FedAvg rounds", total=sim.rounds)
        result = simulate(emb, score, pairs, SimConfig(**fields), progress=lambda _r: bar.advance(task))
    champion = result.agreement["champion"]
    summary = {
        "model": args.model,
        "pairs": len(pairs),
        "embedding_dim": int(emb.shape[1]),
        "mean_agreement": {k: round(float(v.mean()), 4) for k, v in result.agreement.items()},
        "clients_beating_champion": {k: int((v > champion).sum()) for k, v in result.agreement.items() if k != "champion"},
        "clients": len(champion),
        "crossings": len(result.boundary.log),
    }
    print(json.dumps(summary, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="aivj feedback", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    options = config_options("feedback")
    sub.add_parser("count", parents=[options], help="events stored")
    sim = sub.add_parser("simulate", parents=[options], help="the federated simulation on the champion's pair embeddings")
    sim.add_argument("--model", default="champion", help="registry version, checkpoint, or champion")
    args = p.parse_args(argv)
    url = None
    try:
        if args.command == "simulate":
            return _simulate(args)
        from aivj.feedback.store import FeedbackStore

        url = store_url(load_config(overrides=args.set))
        print(FeedbackStore(url).count())
    except (ValueError, OSError) as exc:
        return _one_line_error(f"aivj feedback {args.command}", exc, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
