"""The scoring service's pack cache under FastAPI's thread pool: each pack scored once, no lost answers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from aivj.serving.app import PACK_CACHE, PackCache


class SlowScorer:
    """Counts score_pack calls; each blocks until ``release`` is set, as a real pack scoring takes a while."""

    def __init__(self) -> None:
        self.calls, self.lock, self.release = [], threading.Lock(), threading.Event()

    def score_pack(self, pack_dir):
        with self.lock:
            self.calls.append(pack_dir.name)
        self.release.wait()
        return {"pack": pack_dir.name}


def test_a_pack_asked_for_by_many_threads_at_once_is_scored_once(tmp_path):
    (tmp_path / "p").mkdir()
    scorer, cache = SlowScorer(), PackCache()
    loaded = SimpleNamespace(version="v1_aaaa", scorer=scorer)
    with ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(cache.scores, tmp_path / "p", loaded) for _ in range(8)]
        time.sleep(0.2)  # let every thread reach the cache before the first scoring finishes
        scorer.release.set()
        results = [a.result() for a in answers]
    assert scorer.calls == ["p"] and all(r == {"pack": "p"} for r in results)


def test_more_packs_than_the_cache_holds_at_once_each_get_their_own_answer(tmp_path):
    scorer, cache = SlowScorer(), PackCache()
    scorer.release.set()
    loaded = SimpleNamespace(version="v1_aaaa", scorer=scorer)
    names = [f"p{i}" for i in range(PACK_CACHE * 4)]
    for name in names:
        (tmp_path / name).mkdir()
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: cache.scores(tmp_path / n, loaded), names * 3))
    assert [r["pack"] for r in results] == names * 3 and len(cache.entries) == PACK_CACHE
