"""Training throughput: the real training step against a naive reference loop, in one process.

    .venv/bin/python benchmarks/bench_training.py [--data data/default] [--groups 1 2 4 8] [--rounds 5] [--write]

The reference (issue 13): a naive 106k-parameter pair scorer, 2 blocks of nn.MultiheadAttention
cross-attention over 8 tokens a layer, AdamW, batches of 36, 1 thread. Beside it, on the same
pairs: the coupling model of `experiment=full` (net, loss, optimizer and gradient clipping as
`train.py` builds them) in a raw loop at ``groups`` x (4 elite + 32 regular) pairs a batch, and the
same model through Lightning's `Trainer.fit` with `train.py`'s callbacks and logger. Timings are
interleaved in rounds (median pairs/s), so the ratios hold on a shared machine; every figure is
printed as a ratio to the reference.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

from doc_section import write_section  # noqa: E402  (benchmarks/ is run as scripts)


class NaiveCrossAttention(nn.Module):
    """The reference: per preset 8 tokens of width 48 from all its inputs, 2 FG<->BG MHA blocks, mean pool."""

    def __init__(self, in_dim: int = 161, dim: int = 48, tokens: int = 8, blocks: int = 2) -> None:
        super().__init__()
        self.tokens, self.dim = tokens, dim
        self.tokenize = nn.Linear(in_dim, tokens * dim)
        self.attn = nn.ModuleList(nn.MultiheadAttention(dim, 4, batch_first=True) for _ in range(2 * blocks))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(2 * blocks))
        self.head = nn.Sequential(nn.Linear(2 * dim, 64), nn.GELU(), nn.Linear(64, 1))

    def forward(self, fg: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
        f = self.tokenize(fg).view(-1, self.tokens, self.dim)
        b = self.tokenize(bg).view(-1, self.tokens, self.dim)
        for i in range(0, len(self.attn), 2):
            f, b = (
                self.norms[i](f + self.attn[i](f, b, b, need_weights=False)[0]),
                self.norms[i + 1](b + self.attn[i + 1](b, f, f, need_weights=False)[0]),
            )
        return 5 * torch.sigmoid(self.head(torch.cat([f.mean(1), b.mean(1)], -1)).squeeze(-1))


def reference_step(batches: list[dict]):
    net = NaiveCrossAttention()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    side = lambda b, s: torch.cat([b[f"{s}_static"], b[f"{s}_render"], b[f"{s}_has_render"].float()[:, None]], -1)  # noqa: E731
    data = itertools.cycle([(side(b, "fg"), side(b, "bg"), b["score"].float()) for b in batches])

    def step() -> int:
        fg, bg, score = next(data)
        opt.zero_grad()
        loss = (net(fg, bg) - score).pow(2).mean()
        loss.backward()
        opt.step()
        return len(score)

    return step, sum(p.numel() for p in net.parameters())


def compose(overrides: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return hydra_compose(config_name="train", overrides=["experiment=full", *overrides])


def train_batches(data: str, groups: int, n: int) -> list[dict]:
    from datamodules.coupling_datamodule import CouplingDataModule

    dm = CouplingDataModule(data_dir=data, batch_groups=groups)
    dm.setup("fit")
    return list(itertools.islice(iter(dm.train_dataloader()), n))


def raw_step(batches: list[dict], clip: float, compiled: bool = False):
    """The module's own net, loss and optimizer (configure_optimizers) without the Trainer; ``compiled``: the
    forward + loss through torch.compile as ``model.compile_training=true`` runs it (compiled on first use)."""
    from aivj.training import build

    model = build(compose([f"model.compile_training={compiled}"]).model).train()
    opt = model.configure_optimizers()
    opt = opt["optimizer"] if isinstance(opt, dict) else opt
    data = itertools.cycle(batches)

    def step() -> int:
        b = next(data)
        opt.zero_grad(set_to_none=True)
        model._training_losses(b)["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return len(b["score"])

    return step, sum(p.numel() for p in model.parameters())


class _Timed(Exception):
    """Ends a timed fit after its last batch (before the epoch-end hooks, which want validation)."""


class _StepClock(L.Callback):
    """Wall time of the training batches after ``skip`` warm-up batches; stops the fit after ``steps``."""

    def __init__(self, skip: int, steps: int) -> None:
        super().__init__()
        self.skip, self.steps, self.t0, self.pairs, self.seconds = skip, steps, None, 0, 0.0

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == self.skip:
            self.t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if self.t0 is not None:
            self.pairs += len(batch["score"])
            self.seconds = time.perf_counter() - self.t0
            if batch_idx + 1 >= self.skip + self.steps:
                raise _Timed


def lightning_rate(data: str, groups: int, steps: int, out_dir: str, compiled: bool = False) -> float:
    """Pairs/s of `Trainer.fit` as train.py builds it (callbacks, logger), training batches only."""
    from aivj.training import build, instantiate_group

    cfg = compose(
        [
            f"data.data_dir={data}",
            f"data.batch_groups={groups}",
            f"model.compile_training={compiled}",
            f"paths.output_dir={out_dir}",
            "hydra.runtime.output_dir=" + out_dir,
            "hydra.runtime.cwd=" + str(ROOT),
        ]
    )
    clock = _StepClock(skip=5, steps=steps)
    trainer = build(
        cfg.trainer,
        callbacks=[*instantiate_group(cfg.callbacks), clock],
        logger=instantiate_group(cfg.logger),
        limit_val_batches=0,
        num_sanity_val_steps=0,
        max_epochs=1,
    )
    try:
        trainer.fit(build(cfg.model), datamodule=build(cfg.data))
    except _Timed:
        pass
    return clock.pairs / clock.seconds if clock.seconds else float("nan")


def interleaved(steps: dict, rounds: int, seconds: float) -> dict[str, float]:
    """name -> (torch threads, step); each round times every step for ``seconds``; median pairs/s."""
    rates: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds + 1):  # round 0 warms up
        for name, (threads, step) in steps.items():
            torch.set_num_threads(threads)
            t, pairs = time.perf_counter(), 0
            while time.perf_counter() - t < (seconds if r else seconds / 3):
                pairs += step()
            if r:
                rates[name].append(pairs / (time.perf_counter() - t))
    torch.set_num_threads(1)
    return {name: statistics.median(r) for name, r in rates.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "default"))
    ap.add_argument("--groups", type=int, nargs="+", default=[1, 4, 8, 16], help="batch_groups k to time")
    ap.add_argument("--threads", type=int, nargs="+", default=[1], help="torch threads to time the raw step at")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.5, help="per variant per round")
    ap.add_argument("--lightning-steps", type=int, default=60, help="Trainer.fit batches per k (0: skip)")
    ap.add_argument("--compile", action="store_true", help="also time model.compile_training=true (~1 min to compile per k)")
    ap.add_argument("--write", action="store_true", help="write the section into docs/benchmarks.md")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    clip = float(compose([]).trainer.gradient_clip_val or 0) or float("inf")

    ref, ref_params = reference_step(train_batches(args.data, 1, 40))
    REF = "reference (naive, batch 36)"
    steps, params = {REF: (1, ref)}, 0
    for k in args.groups:
        step, params = raw_step(train_batches(args.data, k, 30), clip)
        for threads in args.threads:
            named = f", {threads} threads" if threads != 1 else ""
            steps[f"coupling raw loop, k={k} (batch {36 * k}){named}"] = (threads, step)
        if args.compile:
            compiled, _ = raw_step(train_batches(args.data, k, 30), clip, compiled=True)
            compiled()  # compiles here, outside the timed rounds
            steps[f"coupling raw loop, compiled, k={k} (batch {36 * k})"] = (1, compiled)
    load_before = os.getloadavg()
    rates = interleaved(steps, args.rounds, args.seconds)
    ratios = {name: (rate, rate / rates[REF]) for name, rate in rates.items()}
    if args.lightning_steps:
        with tempfile.TemporaryDirectory() as tmp:
            for k, compiled in itertools.product(args.groups, [False, True] if args.compile else [False]):
                ref_now = interleaved({REF: (1, ref)}, 1, args.seconds)[REF]
                rate = lightning_rate(args.data, k, args.lightning_steps, f"{tmp}/k{k}{compiled}", compiled)
                # Trainer.fit runs as one block, so it is scaled by a reference timed right before it.
                named = ", compiled" if compiled else ""
                ratios[f"train.py path (Trainer.fit){named}, k={k} (batch {36 * k})"] = rate, rate / ref_now
    load = os.getloadavg()
    lines = [
        "## Training step",
        "",
        f"- Date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, 1 thread unless named; load average {load_before[0]:.1f} before, {load[0]:.1f} after "
        f"(1 min; {load[1]:.1f} over 5 min).",
        f"- Command: `.venv/bin/python benchmarks/bench_training.py --groups {' '.join(map(str, args.groups))}"
        f" --rounds {args.rounds}` (also run by `make bench`). Reference: {ref_params:,} parameters; coupling "
        f"model of `experiment=full`: {params:,} parameters; median pairs/s over {args.rounds} interleaved rounds.",
        "- Trainer.fit rows: `train.py`'s callbacks and logger, training batches only (5 warm-up batches, no "
        "validation), each a ratio to the reference timed just before it (the fit runs as one block).",
        "",
        "| what | pairs/s | ratio to the reference |",
        "| --- | ---: | ---: |",
        *[f"| {name} | {rate:,.0f} | **{ratio:.2f}x** |" for name, (rate, ratio) in ratios.items()],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("Training step", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
