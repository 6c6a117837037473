"""``aivj feedback``: API keys, the store's counts, and the federated simulation; ``aivj serve feedback``: the API.

aivj serve feedback --port 8010                  # the feedback API on uvicorn (SQLite under $AIVJ_HOME)
aivj serve feedback --issue-key webapp           # print a new API key for client "webapp" and exit
aivj feedback count                              # events stored
aivj feedback simulate --model champion          # federated head vs the champion, 12 simulated viewers
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from aivj.feedback.config import load_config


def _store_url(cfg, settings) -> str:
    from aivj.feedback.store import default_url

    return cfg.store_url or default_url(settings.home())


def serve_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="aivj serve feedback", description="the feedback API (docs/feedback.md)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8010)
    p.add_argument("--issue-key", metavar="CLIENT", default=None, help="print a new API key for CLIENT and exit")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override conf/feedback/default.yaml")
    args = p.parse_args(argv)
    from aivj.services.settings import ServiceSettings

    settings = ServiceSettings(name="feedback")
    if args.issue_key:
        from aivj.services.keys import KeyStore

        print(KeyStore(settings.keys_file()).issue(args.issue_key))
        return 0
    cfg = load_config(overrides=args.set)
    import uvicorn

    from aivj.feedback.api import create_feedback_app
    from aivj.feedback.assign import load_experiments

    app = create_feedback_app(settings, _store_url(cfg, settings), load_experiments(cfg.experiments_dir))
    print(f"aivj serve feedback: {app.state.store.url} on http://{args.host}:{args.port}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
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
    count = sub.add_parser("count", help="events stored")
    sim = sub.add_parser("simulate", help="the federated simulation on the champion's pair embeddings")
    sim.add_argument("--model", default="champion", help="registry version, checkpoint, or champion")
    for q in (count, sim):
        q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override conf/feedback/default.yaml")
    args = p.parse_args(argv)
    if args.command == "simulate":
        return _simulate(args)
    from aivj.feedback.store import FeedbackStore
    from aivj.services.settings import ServiceSettings

    cfg = load_config(overrides=args.set)
    print(FeedbackStore(_store_url(cfg, ServiceSettings(name="feedback"))).count())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
