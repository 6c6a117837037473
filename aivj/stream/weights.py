"""The weight change ``delta_w = f(delta score, delta rank, time decay)`` and the script that applies it.

A pair's sampling weight is its quality plus a momentum that fades with the configured half-life::

    m = m_prev * 2 ** (-(t - t_prev) / half_life_s)
        + score_gain * (score - score_prev) + rank_gain * (log2(rank_prev) - log2(rank))
    w = clamp(score / 5 + m, min, max)          # delta_w = w - w_prev

A pair's first event has m = 0. An event older than the pair's last applied one is stale: it is
recorded as seen and changes nothing (two workers may apply one pair's events out of order). ``next_state``
is the reference; ``APPLY_LUA`` is what the workers run inside Redis, so reading the previous state,
writing the new one, marking the event id applied and XACK happen in one atomic step: a worker that dies
leaves an event either wholly applied and acknowledged or not at all, and a replay changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aivj.stream.events import SCORE_MAX

APPLIED, DUPLICATE, STALE = "applied", "duplicate", "stale"


@dataclass(frozen=True)
class WeightParams:
    half_life_s: float = 3600.0
    score_gain: float = 0.2
    rank_gain: float = 0.1
    min: float = 0.05
    max: float = 5.0

    @classmethod
    def from_config(cls, cfg) -> WeightParams:
        p = cls(**{k: float(cfg[k]) for k in ("half_life_s", "score_gain", "rank_gain", "min", "max")})
        if not (p.half_life_s > 0 and 0 < p.min < p.max):
            raise ValueError(f"weights: need half_life_s > 0 and 0 < min < max, got {p}")
        return p


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def next_state(prev: dict | None, score: float, rank: int, time: float, p: WeightParams) -> tuple[str, dict | None]:
    """(outcome, new state) for one event; ``prev``/state hold weight, m, score, rank, time."""
    m = 0.0
    if prev is not None:
        if time < prev["time"]:
            return STALE, None
        decay = 2.0 ** (-(time - prev["time"]) / p.half_life_s)
        m = prev["m"] * decay + p.score_gain * (score - prev["score"]) + p.rank_gain * (math.log2(prev["rank"]) - math.log2(rank))
        m = _clamp(m, -p.max, p.max)
    weight = _clamp(score / SCORE_MAX + m, p.min, p.max)
    return APPLIED, {"weight": weight, "m": m, "score": score, "rank": rank, "time": time}


# KEYS: stream, applied flag, pair hash, pack's sorted set, packs set
# ARGV: group, entry id ('' = none to ack), event id, pack, pair, score, rank, time, source, fg, bg,
#       half_life_s, score_gain, rank_gain, min, max, dedup_ttl_s, score_max
# Returns {outcome code, weight}: 1 applied, 0 duplicate, 2 stale. Numbers go back as strings (a Lua
# number returned to Redis is cut to an integer); Redis writes Lua numbers passed to commands in full.
APPLY_LUA = r"""
local function ack()
  if ARGV[2] ~= '' then redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) end
end
local function clamp(x, lo, hi) if x < lo then return lo elseif x > hi then return hi end return x end
if redis.call('EXISTS', KEYS[2]) == 1 then ack() return {0, ''} end
local score, rank, t = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local wmin, wmax = tonumber(ARGV[15]), tonumber(ARGV[16])
local prev = redis.call('HMGET', KEYS[3], 'score', 'rank', 'time', 'm', 'n')
local m = 0
if prev[1] then
  local pt = tonumber(prev[3])
  if t < pt then
    redis.call('SET', KEYS[2], '1', 'EX', ARGV[17])
    ack()
    return {2, ''}
  end
  local decay = 2 ^ (-(t - pt) / tonumber(ARGV[12]))
  local drank = (math.log(tonumber(prev[2])) - math.log(rank)) / math.log(2)
  m = tonumber(prev[4]) * decay + tonumber(ARGV[13]) * (score - tonumber(prev[1])) + tonumber(ARGV[14]) * drank
  m = clamp(m, -wmax, wmax)
end
local w = clamp(score / tonumber(ARGV[18]) + m, wmin, wmax)
local now = redis.call('TIME')
local fields = {'weight', w, 'm', m, 'score', ARGV[6], 'rank', ARGV[7], 'time', ARGV[8], 'event', ARGV[3],
  'source', ARGV[9], 'applied_at', now[1] .. '.' .. string.format('%06d', tonumber(now[2])), 'n', (tonumber(prev[5]) or 0) + 1}
if ARGV[10] ~= '' then table.insert(fields, 'fg') table.insert(fields, ARGV[10]) end
if ARGV[11] ~= '' then table.insert(fields, 'bg') table.insert(fields, ARGV[11]) end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('ZADD', KEYS[4], w, ARGV[5])
redis.call('SADD', KEYS[5], ARGV[4])
redis.call('SET', KEYS[2], '1', 'EX', ARGV[17])
ack()
return {1, string.format('%.17g', w)}
"""

OUTCOME_OF_CODE = {1: APPLIED, 0: DUPLICATE, 2: STALE}
