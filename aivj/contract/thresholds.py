"""Every figure a model, a pair or a golden case is judged against, in one place.

Configs read them through the ``threshold`` resolver (``${threshold:golden_pass_rate}``,
aivj/configs.py), so a gate in conf/ and the code's default can never disagree. Changing one
changes what ships: say why in docs/registry.md.
"""

from __future__ import annotations

# A pair's score is 0-5. Golden positives score >= ELITE_SCORE, golden negatives <= NEGATIVE_SCORE;
# a positive passes when predicted >= PASS_THRESHOLD, a negative when predicted below it.
ELITE_SCORE = 4.0
NEGATIVE_SCORE = 2.0
PASS_THRESHOLD = 3.0
TIER_EDGES = (2.0, 3.0, 4.0)  # report tiers: D < 2 <= C < 3 <= B < 4 <= A

# Gates per scoring path (aivj/contract/scoring_paths.py). Golden pairs are made of held-out presets
# (no twin in training): from text alone a model measured 0.75 there after one epoch (chance 0.5).
# The static gate says "well above chance", the render gate says "right": export names the static
# path's figure whenever it falls back.
GOLDEN_PASS_RATE = 0.98
UNSEEN_PAIRWISE_ACC = 0.90
STATIC_GOLDEN_PASS_RATE = 0.70
STATIC_UNSEEN_PAIRWISE_ACC = 0.65

# The names configs use (``${threshold:NAME}``); ``aivj validate`` checks configured gates against them.
THRESHOLDS: dict[str, float] = {
    "elite_score": ELITE_SCORE,
    "negative_score": NEGATIVE_SCORE,
    "pass_threshold": PASS_THRESHOLD,
    "golden_pass_rate": GOLDEN_PASS_RATE,
    "unseen_pairwise_acc": UNSEEN_PAIRWISE_ACC,
    "static_golden_pass_rate": STATIC_GOLDEN_PASS_RATE,
    "static_unseen_pairwise_acc": STATIC_UNSEEN_PAIRWISE_ACC,
}

PATH_GATES: dict[str, list[tuple[tuple[str, ...], float]]] = {
    "render": [
        (("test_unseen/pairwise_acc",), UNSEEN_PAIRWISE_ACC),
        (("golden/pass_rate", "test_golden/pass_rate"), GOLDEN_PASS_RATE),
    ],
    "static": [
        (("test_unseen/pairwise_acc",), STATIC_UNSEEN_PAIRWISE_ACC),
        (("golden/pass_rate", "test_golden/pass_rate"), STATIC_GOLDEN_PASS_RATE),
    ],
}


def golden_cases(score, is_elite=None):
    """(positive, negative) masks of the golden cases among pairs with true ``score``.

    Positives are the elite pairs (``is_elite`` when given, else score >= ELITE_SCORE); negatives the
    other pairs scoring <= NEGATIVE_SCORE; the rest is no golden case. Works on numpy arrays and
    torch tensors alike (only comparisons and ``&``/``~``), so training and scoring share it.
    """
    positive = (is_elite != 0) if is_elite is not None else score >= ELITE_SCORE
    return positive, ~positive & (score <= NEGATIVE_SCORE)


def golden_passes(pred, score, is_elite=None, threshold: float = PASS_THRESHOLD):
    """(passed, judged) masks: the golden rule, the one way the project computes a pass rate."""
    positive, negative = golden_cases(score, is_elite)
    passed = (positive & (pred >= threshold)) | (negative & (pred < threshold))
    return passed, positive | negative


def golden_pass_rate(pred, score, is_elite=None, threshold: float = PASS_THRESHOLD) -> float:
    """Share of golden cases that pass; NaN when there is none."""
    passed, judged = golden_passes(pred, score, is_elite, threshold)
    n = int(judged.sum())
    return float(passed.sum()) / n if n else float("nan")
