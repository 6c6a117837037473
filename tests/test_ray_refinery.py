"""The refinery on a real Ray cluster (a head on 127.0.0.1 started here, stopped after): frames
bit-identical to the local pool's, failures recorded as the local pool records them, a killed worker's
preset retried."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aivj.refinery import library
from aivj.refinery.cache import FrameCache
from aivj.refinery.render import render_presets
from aivj.refinery.settings import RenderSettings
from tests.servers import ray_head
from tests.test_refinery_render import DEBIAN, THREE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with ray_head(num_cpus=2) as address:
        yield address


def _jobs(paths):
    return library.jobs(library.scan(paths, "test"))


def test_ray_frames_are_bit_identical_to_the_local_pool(cluster, tmp_path):
    settings = RenderSettings()
    paths = [DEBIAN / n for n in THREE]
    local, remote = FrameCache(settings, tmp_path / "local"), FrameCache(settings, tmp_path / "ray")
    by_local = render_presets(_jobs(paths), settings, local, workers=1, progress=False)
    from aivj.cli import main

    rc = main(["refine", "render", *map(str, paths), "--ray", cluster, "--workers", "2", "--cache", str(tmp_path / "ray")])
    assert rc == 0
    by_ray = remote.statuses()
    assert [r["status"] for r in by_ray.values()] == ["ok"] * 3
    assert by_ray.keys() == by_local.keys()
    for pid in by_local:
        assert np.array_equal(local.load_frames(pid), remote.load_frames(pid)), pid
        assert by_ray[pid]["mean_luma"] == by_local[pid]["mean_luma"]


def test_a_killed_worker_is_retried_and_crashes_are_recorded(cluster, tmp_path, monkeypatch):
    source = (DEBIAN / THREE[1]).read_text(errors="replace")
    killed = tmp_path / "kill_me.milk"
    killed.write_text(source + "\nper_frame_99=q3=1;\n")
    crash = tmp_path / "crash_me.milk"
    crash.write_text(source + "\nper_frame_99=q2=1;\n")
    settings = RenderSettings()
    cache = FrameCache(settings, tmp_path / "ray")
    monkeypatch.setenv("AIVJ_REFINERY_FAULT", "kill:kill_me.milk")  # SIGKILL on the first attempt only
    res = render_presets(_jobs([killed, DEBIAN / THREE[0]]), settings, cache, workers=2, progress=False, ray=cluster)
    by_name = {Path(r["path"]).name: r for r in res.values()}
    assert by_name["kill_me.milk"]["status"] == "ok" and by_name[THREE[0]]["status"] == "ok"
    local = FrameCache(settings, tmp_path / "local")
    monkeypatch.delenv("AIVJ_REFINERY_FAULT")  # the local worker knows no "kill" hook: it would abort
    render_presets(_jobs([killed]), settings, local, workers=1, progress=False)
    kid = by_name["kill_me.milk"]["id"]
    assert np.array_equal(cache.load_frames(kid), local.load_frames(kid))  # the retry rendered it right

    raises = tmp_path / "raise_me.milk"
    raises.write_text(source + "\nper_frame_99=q4=1;\n")
    # crash: aborts every time, a real crash; raise: a Python error inside the actor
    monkeypatch.setenv("AIVJ_REFINERY_FAULT", "crash:crash_me.milk,raise:raise_me.milk")
    res = render_presets(_jobs([crash, raises]), settings, cache, workers=2, progress=False, ray=cluster)
    by_name = {Path(r["path"]).name: r for r in res.values()}
    assert by_name["crash_me.milk"]["status"] == "crash" and "worker died" in by_name["crash_me.milk"]["reason"]
    assert by_name["raise_me.milk"]["status"] == "crash" and "test fault in raise_me.milk" in by_name["raise_me.milk"]["reason"]
    assert {cache.statuses()[r["id"]]["status"] for r in res.values()} == {"crash"}


def test_no_cluster_at_the_address_is_one_line(tmp_path):
    from tests.servers import free_port

    settings = RenderSettings()
    with pytest.raises(RuntimeError, match=r"--ray 127\.0\.0\.1:\d+: cannot join a Ray cluster"):
        render_presets(
            _jobs([DEBIAN / THREE[0]]), settings, FrameCache(settings, tmp_path), progress=False, ray=f"127.0.0.1:{free_port()}"
        )
