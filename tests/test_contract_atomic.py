"""atomic_dir: the folder it publishes has a plain mkdir's mode, and durable means its contents were fsync'd first."""

from __future__ import annotations

import os
import stat

import pytest

from aivj.contract import atomic
from aivj.contract.atomic import atomic_dir


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_folder_gets_the_mode_a_plain_mkdir_gives(tmp_path, umask_022):
    (tmp_path / "plain").mkdir()
    with atomic_dir(tmp_path / "bundle") as tmp:
        (tmp / "a.txt").write_text("a")
    mode = stat.S_IMODE((tmp_path / "bundle").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o755


def test_durable_fsyncs_every_file_inside_before_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", recording_fsync)
    with atomic_dir(tmp_path / "version", durable=True) as tmp:
        (tmp / "sub").mkdir()
        (tmp / "model.ckpt").write_bytes(b"weights")
        (tmp / "sub" / "meta.json").write_text("{}")
    before_rename = [p for p in synced if "/.version." in p]
    assert {os.path.basename(p) for p in before_rename} >= {"model.ckpt", "meta.json", "sub"}
    assert str(tmp_path) in synced  # the parent, after the rename
    assert (tmp_path / "version" / "sub" / "meta.json").read_text() == "{}"
