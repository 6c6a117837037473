"""The champion's succession: compare-and-set promotion, clearing, and the one rollback target all callers use."""

from __future__ import annotations

import pytest

from aivj.registry import Registry, RegistryError, register_run
from aivj.registry.cli import main as registry_cli
from tests.test_registry_store import good_metrics, make_run


@pytest.fixture
def reg(tmp_path, monkeypatch):
    """Three versions of one data fingerprint; v0, v1, v2 were champion in that order."""
    monkeypatch.setenv("AIVJ_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("AIVJ_SHIPPED_DIR", "")
    versions = []
    for i in range(3):
        run, ckpt, data = make_run(tmp_path, f"r{i}", {})
        versions.append(register_run(run, ckpt, None, good_metrics(), data, auto_promote=False)[0])
    reg = Registry()
    for v in versions:
        reg.set_champion(v, "test")
    return reg, versions


def test_set_champion_refuses_when_the_champion_moved_since_it_was_read(reg):
    reg, (v0, v1, v2) = reg
    read = reg.pointer_text()
    reg.set_champion(v1, "a promotion in between")
    rows = len(reg.history())
    with pytest.raises(RegistryError, match=f"moved to {v1} since it was read as {v2}"):
        reg.set_champion(v0, "rollback", expected=read)
    assert reg.champion() == v1 and len(reg.history()) == rows
    reg.set_champion(v0, "rollback", expected=v1)  # what it says now: switches
    assert reg.champion() == v0


def test_clear_champion_leaves_a_history_row_and_no_pointer_naming_it(reg):
    reg, (_, _, v2) = reg
    fingerprint = reg.fingerprint(v2)
    assert reg.champion_for(fingerprint) == v2
    with pytest.raises(RegistryError, match="moved"):
        reg.clear_champion("stale", expected="v1_0000")
    assert reg.clear_champion("broken", expected=v2) == v2
    assert reg.champion() is None and reg.champion_for(fingerprint) is None
    assert not (reg.root / "champions" / fingerprint).exists()
    last = reg.history()[-1]
    assert (last["champion"], last["previous"], last["reason"]) == (None, v2, "broken")


def test_cli_webhook_and_daemon_pick_the_same_sound_target(reg):
    """v2 (current) is broken and v1's metrics.json was altered: every caller goes back to v0."""
    from aivj.daemon.champion import ensure_valid_champion
    from aivj.monitoring.rollback import previous_good as webhook_target

    reg, (v0, v1, v2) = reg
    (reg.path(v1) / "metrics.json").write_text("{}")  # checkpoint fine, but not the version registered
    assert reg.previous_good() == v0 == webhook_target(reg)
    assert registry_cli(["rollback"]) == 0 and reg.champion() == v0
    reg.set_champion(v2, "back again")
    (reg.path(v2) / "model.ckpt").write_bytes(b"torn")
    assert ensure_valid_champion(reg.root)["rolled_back"]["to"] == v0 == reg.champion()


def test_daemon_with_no_sound_target_clears_the_champion_through_the_registry(reg):
    from aivj.daemon.champion import ensure_valid_champion

    reg, versions = reg
    for v in versions:
        (reg.path(v) / "model.ckpt").write_bytes(b"torn")
    result = ensure_valid_champion(reg.root)
    assert result["rolled_back"] == {"from": versions[2], "to": None, "why": result["rolled_back"]["why"]}
    assert reg.champion() is None and reg.champion_for(reg.fingerprint(versions[2])) is None
    assert reg.history()[-1]["champion"] is None and reg.history()[-1]["reason"].startswith("daemon rollback")
