"""The two ways a model scores a pair, and the figures a version needs before it may ship on each.

``render``: both presets were rendered by the refinery (render descriptors present).
``static``: scored from the .milk text alone (``has_render = 0``), what export falls back to without
projectM. A model supports a path when its ``metrics.json`` holds that path's figures and they pass
the gates of ``thresholds.PATH_GATES``; export refuses a path a version has not passed. The render path's metric names are
the plain ones (``test_unseen/pairwise_acc``); the static path's carry the ``static/`` prefix
(``static/test_unseen/pairwise_acc``).
"""

from __future__ import annotations

import math

from aivj.contract.thresholds import PATH_GATES

SCORING_PATHS = ("render", "static")
STATIC_PREFIX = "static/"


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
