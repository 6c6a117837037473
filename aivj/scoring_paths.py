"""The two ways a model scores a pair, and the figures a version needs before it may ship on each.

``render``: both presets were rendered by the refinery (render descriptors present).
``static``: scored from the .milk text alone (``has_render = 0``), what export falls back to without
projectM. A model supports a path when its ``metrics.json`` holds that path's figures and they pass
the gates below; export refuses a path a version has not passed. The render path's metric names are
the plain ones (``test_unseen/pairwise_acc``); the static path's carry the ``static/`` prefix
(``static/test_unseen/pairwise_acc``).
"""

from __future__ import annotations

import math

SCORING_PATHS = ("render", "static")
STATIC_PREFIX = "static/"

# (figure, minimum) a version must reach on a path; the first present name of each figure counts.
PATH_GATES: dict[str, list[tuple[tuple[str, ...], float]]] = {
    "render": [(("test_unseen/pairwise_acc",), 0.90), (("golden/pass_rate", "test_golden/pass_rate"), 0.98)],
    # Golden pairs are made of held-out presets (no twin in training): from text alone a model
    # measured 0.75 there after one epoch (chance 0.5). The static gate says "well above chance",
    # the render gate says "right": export names the static path's figure whenever it falls back.
    "static": [(("test_unseen/pairwise_acc",), 0.65), (("golden/pass_rate", "test_golden/pass_rate"), 0.70)],
}


def metric_name(path: str, name: str) -> str:
    """The metrics.json key of ``name`` (e.g. ``golden/pass_rate``) measured on ``path``."""
    if path not in SCORING_PATHS:
        raise ValueError(f"scoring path must be one of {SCORING_PATHS}, got {path!r}")
    return name if path == "render" else STATIC_PREFIX + name


def _lookup(metrics: dict, path: str, names: tuple[str, ...]) -> tuple[str, float | None]:
    for name in names:
        key = metric_name(path, name)
        value = metrics.get(key)
        if value is not None and math.isfinite(float(value)):
            return key, float(value)
    return metric_name(path, names[0]), None


def path_figures(metrics: dict, path: str) -> dict[str, float | None]:
    """{metrics.json key: value or None} of every gated figure of ``path``."""
    return dict(_lookup(metrics, path, names) for names, _ in PATH_GATES[path])


def check_path(metrics: dict, path: str, gates: dict | None = None) -> tuple[bool, str]:
    """(passes?, one line naming the figure) for ``path``; ``gates`` overrides PATH_GATES."""
    for names, minimum in (gates or PATH_GATES)[path]:
        key, value = _lookup(metrics, path, tuple(names))
        if value is None:
            return False, f"no {path}-path figure {key} recorded"
        if value < minimum:
            return False, f"{path}-path {key} = {value:.4f} < {minimum}"
    return True, f"{path} path passes (" + ", ".join(f"{k} {v:.4f}" for k, v in path_figures(metrics, path).items()) + ")"
