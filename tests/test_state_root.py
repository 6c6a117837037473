"""One state root: the project and its generated state are found one way, by code and configs alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from aivj.home import project_root, state_dir, state_root
from aivj.registry.files import default_registry_dir
from aivj.services.settings import ServiceSettings
from tests.conftest import ROOT, compose_config


def test_defaults_are_the_checkout_and_its_ignored_var_folder(monkeypatch):
    for name in ("AIVJ_ROOT", "AIVJ_HOME", "AIVJ_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    assert project_root() == ROOT and state_root() == ROOT / "var"
    assert default_registry_dir() == ROOT / "var" / "registry"
    assert "/var/" in (ROOT / ".gitignore").read_text().splitlines()


def test_aivj_home_moves_every_kind_of_state(monkeypatch, tmp_path):
    monkeypatch.setenv("AIVJ_HOME", str(tmp_path))
    monkeypatch.delenv("AIVJ_REGISTRY", raising=False)
    assert default_registry_dir() == tmp_path / "registry" == state_dir("registry")
    assert ServiceSettings(name="daemon").home() == tmp_path / "services" / "daemon"
    with pytest.raises(ValueError, match="state kind"):
        state_dir("elsewhere")


def test_configs_read_the_same_roots(monkeypatch, tmp_path):
    monkeypatch.setenv("AIVJ_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AIVJ_REGISTRY", raising=False)
    cfg = compose_config("train", [], tmp_path)
    assert Path(cfg.paths.root_dir) == project_root()
    assert Path(cfg.paths.state_dir) == tmp_path / "home"
    assert Path(cfg.paths.studies_dir) == tmp_path / "studies"  # conftest keeps tests' studies in their temp folder
