"""The promotion rule with scoring paths: every required path must pass, and a perfect champion can be beaten."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from aivj.registry.rules import PromotionRules, decide_promotion

ROOT = Path(__file__).resolve().parents[1]

BOTH = PromotionRules(required_paths=("render", "static"))


def metrics(val=0.99, unseen=0.99, golden=1.0, s_val=0.80, s_unseen=0.78, s_golden=0.90, static=True) -> dict:
    out = {"val/pairwise_acc": val, "test_unseen/pairwise_acc": unseen, "golden/pass_rate": golden}
    if static:
        out.update(
            {"static/val/pairwise_acc": s_val, "static/test_unseen/pairwise_acc": s_unseen, "static/golden/pass_rate": s_golden}
        )
    return out


def test_config_requires_both_paths():
    rules = PromotionRules.from_config(OmegaConf.load(ROOT / "conf" / "registry" / "default.yaml"))
    assert rules.required_paths == ("render", "static")
    assert PromotionRules.from_config({"required_paths": "static"}).required_paths == ("static",)


def test_a_champion_at_full_golden_pass_can_be_beaten():
    champion = metrics(val=0.990, golden=1.0)
    ok, reason = decide_promotion(metrics(val=0.995, golden=1.0), champion, BOTH)
    assert ok, reason
    ok, reason = decide_promotion(metrics(val=0.990, golden=1.0, s_val=0.85), champion, BOTH)
    assert ok and "static/val/pairwise_acc" in reason  # a better static path alone is an improvement
    # Equal everywhere is not an improvement; a regression beyond the tolerance blocks it.
    assert not decide_promotion(metrics(val=0.990), champion, BOTH)[0]
    ok, reason = decide_promotion(metrics(val=0.999, golden=0.99), champion, BOTH)
    assert not ok and "golden/pass_rate" in reason
    ok, reason = decide_promotion(metrics(val=0.999, s_golden=0.88), champion, BOTH)
    assert not ok and "static/golden/pass_rate" in reason


def test_a_candidate_failing_a_required_path_is_never_promoted():
    old_champion = metrics(static=False)  # passes render only, like the committed v1795699096_71a2
    for candidate in (metrics(static=False), metrics(s_unseen=0.495), metrics(s_golden=0.5)):
        ok, reason = decide_promotion(candidate, None, BOTH)
        assert not ok and reason.startswith("candidate fails required path: ") and "static" in reason
        assert not decide_promotion(candidate, old_champion, BOTH)[0]
    ok, reason = decide_promotion(metrics(unseen=0.80), None, BOTH)
    assert not ok and "render-path test_unseen/pairwise_acc" in reason


def test_a_champion_without_a_required_path_loses_to_one_that_passes_it():
    ok, reason = decide_promotion(metrics(val=0.97), metrics(val=0.999, static=False), BOTH)
    assert ok and "champion fails required path" in reason and "no static-path figure" in reason
    # Render only: the same candidate must then beat the champion on the render path.
    assert not decide_promotion(metrics(val=0.97), metrics(val=0.999, static=False), PromotionRules(required_paths=("render",)))[
        0
    ]
