"""Readers of the live weights: the web app's top-k per pack, and the training sampler's weights.

``topk`` is what the live app calls (``ZREVRANGEBYSCORE {p}topk:{pack} +inf -inf WITHSCORES LIMIT 0 k``
and the pairs' details in the same round trip). ``LiveWeights`` is the hook the datamodule takes through
its config (``data.live_weights``): it answers weights or None, and never makes training wait on a Redis
that is down (short socket timeouts, one try).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry

from aivj.stream.keys import Keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranked:
    pair: int
    weight: float
    details: dict


def _text(d: dict) -> dict:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v) for k, v in d.items()}


def topk(r, keys: Keys, pack: str, k: int = 10) -> list[Ranked]:
    """The ``k`` highest-weighted pairs of ``pack``, best first, with their details."""
    top = r.zrevrangebyscore(keys.topk(pack), "+inf", "-inf", start=0, num=k, withscores=True)
    pipe = r.pipeline(transaction=False)
    for member, _ in top:
        pipe.hgetall(keys.pair(pack, member.decode() if isinstance(member, bytes) else member))
    details = pipe.execute() if top else []
    return [Ranked(int(m), float(w), _text(d)) for (m, w), d in zip(top, details)]


def pack_weights(r, keys: Keys, pack: str) -> dict[int, float]:
    return {int(m): float(w) for m, w in r.zrange(keys.topk(pack), 0, -1, withscores=True)}


class LiveWeights:
    """``weights(packs, pairs)`` -> float64 array, or None when Redis is unreachable or holds no weight.

    A pair Redis holds no weight for gets the mean of the weights it does hold: neither favoured nor left out.
    """

    def __init__(self, redis_url: str = "redis://127.0.0.1:6379/0", key_prefix: str = "aivj:", socket_timeout_s: float = 0.2):
        self.url, self.keys, self.timeout = redis_url, Keys(key_prefix), float(socket_timeout_s)

    def __call__(self, packs: np.ndarray, pairs: np.ndarray) -> np.ndarray | None:
        try:
            r = redis_lib.Redis.from_url(
                self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout, retry=Retry(NoBackoff(), 0)
            )
            try:
                live = {pack: pack_weights(r, self.keys, pack) for pack in np.unique(np.asarray(packs, dtype=object)).tolist()}
            finally:
                r.close()
        except (redis_lib.RedisError, OSError) as exc:  # down, unreachable, or too slow: train on without
            log.warning("live weights: %s unavailable (%s); sampling stays uniform", self.url, exc)
            return None
        known = [w for weights in live.values() for w in weights.values()]
        if not known:
            return None
        neutral = float(np.mean(known))
        return np.fromiter(
            (live[pack].get(int(pair), neutral) for pack, pair in zip(packs.tolist(), pairs.tolist())),
            dtype=np.float64,
            count=len(pairs),
        )
