"""A tiny generated style corpus shared by the style tests (one render per track, once per session)."""

from __future__ import annotations

import pytest

from aivj.style import DEFAULT_LABELS
from aivj.style.generate import generate_corpus

PER_STYLE, SECONDS = 3, 3.0


@pytest.fixture(scope="session")
def style_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("style_corpus")
    generate_corpus(out, DEFAULT_LABELS, PER_STYLE, SECONDS, seed=0, progress=False)
    return out
