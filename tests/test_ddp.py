"""DDP on CPU (trainer=ddp_cpu: 2 spawned processes, gloo) on the synthetic set, through train.train():
the elite sampler shards disjointly with the exact elite ratio, metrics agree, the golden gate decides
and rolls back identically on both ranks, and only rank 0 writes checkpoints, events, report, registry."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from omegaconf import open_dict

from aivj.contract.trusted import TRUSTED_TARGETS
from aivj.registry.store import Registry
from tests.conftest import TINY_DATA, compose_config

pytestmark = pytest.mark.slow

ELITE, REGULAR = 4, 32


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    import train

    tmp = tmp_path_factory.mktemp("ddp")
    data_dir = tmp_path_factory.getbasetemp() / "shared_data"
    overrides = [
        "data=synthetic",
        "model=mlp",
        f"paths.data_dir={data_dir}",
        *TINY_DATA,
        "trainer=ddp_cpu",
        "trainer.max_epochs=2",
        "trainer.limit_train_batches=4",
        "trainer.enable_progress_bar=false",
        f"data.elite_per_batch={ELITE}",
        f"data.regular_per_batch={REGULAR}",
        "callbacks.rich_progress_bar=null",
        "callbacks.model_summary=null",
        "callbacks.early_stopping=null",
        # a gate no tiny model passes, rolling back after every failing epoch: something to agree on
        "callbacks.golden_gate.threshold=1.0",
        "callbacks.golden_gate.patience=1",
        "registry.enabled=true",
        "test=true",
    ]
    cfg = compose_config("train", overrides, tmp)
    with open_dict(cfg):
        cfg.callbacks.rank_probe = {"_target_": "tests.helpers.ddp_probe.RankProbe", "out_dir": str(tmp / "probe")}
        del cfg["hydra"]  # composed outside a Hydra job: its sweep keys cannot resolve where the registry saves the config
    TRUSTED_TARGETS.append("tests.helpers.ddp_probe.*")
    try:
        metrics = train.train(cfg)
    finally:
        TRUSTED_TARGETS.remove("tests.helpers.ddp_probe.*")
    ranks = [json.loads((tmp / "probe" / f"rank{r}.json").read_text()) for r in (0, 1)]
    return cfg, metrics, ranks


def test_each_rank_gets_disjoint_batches_with_the_exact_elite_ratio(ddp_run):
    _, _, ranks = ddp_run
    assert [r["rank"] for r in ranks] == [0, 1] and {r["world_size"] for r in ranks} == {2}
    for epoch in (0, 1):
        seen = []
        for r in ranks:
            batches = [b for b in r["batches"] if b["epoch"] == epoch]
            assert len(batches) == 4
            assert all(b["elite"] == ELITE and b["size"] == ELITE + REGULAR for b in batches)
            seen.append({tuple(p) for b in batches for p in b["pairs"]})
        assert seen[0] and seen[1] and not seen[0] & seen[1], f"epoch {epoch}: a pair reached both ranks"


def test_metrics_gate_and_rollback_agree_on_every_rank(ddp_run):
    _, _, (r0, r1) = ddp_run
    assert len(r0["validations"]) == 2 and "val/pairwise_acc" in r0["validations"][0]
    assert r0["validations"] == r1["validations"]
    assert [h["passed"] for h in r0["gate_history"]] == [False, False]
    assert r0["gate_history"] == r1["gate_history"]
    assert r0["gate_rollbacks"] == r1["gate_rollbacks"] >= 1
    assert r0["drift_rollbacks"] == r1["drift_rollbacks"]
    assert r0["weights"] == r1["weights"]  # the replicas are still one model after the rollbacks


def test_only_rank_zero_writes(ddp_run):
    cfg, metrics, _ = ddp_run
    run = Path(cfg.paths.output_dir)
    ckpts = sorted(p.name for p in run.rglob("*.ckpt"))
    assert ckpts and not [n for n in ckpts if "-v1" in n]  # a second writer would have made versioned copies
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    keys = Counter((e["kind"], e["epoch"], e["global_step"], e.get("source")) for e in events)
    assert keys[("rollback", 0, 4, "GoldenSetGate")] == 1  # once, not once per rank
    assert max(keys.values()) == 1, keys
    assert len(Registry(cfg.paths.registry_dir).versions()) == 1
    assert json.loads((run / "metrics.json").read_text())["metrics"]["val/pairwise_acc"] == pytest.approx(
        metrics["val/pairwise_acc"]
    )
