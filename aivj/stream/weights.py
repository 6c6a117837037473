"""The weight change ``delta_w = f(delta score, delta rank, time decay)`` and the script that applies it.

A pair's sampling weight is its quality plus a momentum that fades with the configured half-life::

    m = m_prev * 2 ** (-(t - t_prev) / half_life_s)
        + score_gain * (score - score_prev) + rank_gain * (log2(rank_prev) - log2(rank))
    w = clamp(score / 5 + m, min, max)          # delta_w = w - w_prev

A pair's first event has m = 0. An event older than the pair's last applied one is stale: it is
recorded as seen and changes nothing (two workers may apply one pair's events out of order). ``next_state``
is the reference; ``APPLY_LUA`` is what the workers run inside Redis, one call per batch, so reading the
previous state, writing the new one, marking the event id applied and XACK happen in one atomic step: a
worker that dies leaves a batch either wholly applied and acknowledged or not at all, and a replay changes
nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aivj.contract.score_events import SCORE_MAX

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


# One call applies a whole batch of entries, in order. KEYS: the stream.
# ARGV: group, key prefix, half_life_s, score_gain, rank_gain, min, max, dedup_ttl_s, score max, then per entry
#       its stream id ('' = nothing to ack) and its event line (already validated by events.parse).
# Returns one code per entry: 1 applied, 0 duplicate, 2 stale. Keys are built from the prefix (keys.py);
# Redis writes Lua numbers passed to commands in full (%.17g), so weights round-trip exactly.
APPLY_LUA = r"""
local group, prefix = ARGV[1], ARGV[2]
local half_life, score_gain, rank_gain = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local wmin, wmax, ttl, score_max = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
local function clamp(x, lo, hi) if x < lo then return lo elseif x > hi then return hi end return x end
local now = redis.call('TIME')
local applied_at = now[1] .. '.' .. string.format('%06d', tonumber(now[2]))
local out, acks, packs = {}, {}, {}
for i = 10, #ARGV, 2 do
  if ARGV[i] ~= '' then acks[#acks + 1] = ARGV[i] end
  local e = cjson.decode(ARGV[i + 1])
  local code = 0
  if redis.call('SET', prefix .. 'applied:' .. e.id, '1', 'NX', 'EX', ttl) then  -- first time this id is seen
    local pair = string.format('%d', e.pair)
    local hash = prefix .. 'pair:' .. e.pack .. ':' .. pair
    local prev = redis.call('HMGET', hash, 'score', 'rank', 'time', 'm', 'n')
    local m = 0
    code = 1
    if prev[1] and e.time < tonumber(prev[3]) then
      code = 2
    elseif prev[1] then
      local decay = 2 ^ (-(e.time - tonumber(prev[3])) / half_life)
      local drank = (math.log(tonumber(prev[2])) - math.log(e.rank)) / math.log(2)
      m = clamp(tonumber(prev[4]) * decay + score_gain * (e.score - tonumber(prev[1])) + rank_gain * drank, -wmax, wmax)
    end
    if code == 1 then
      local w = clamp(e.score / score_max + m, wmin, wmax)
      local fields = {'weight', w, 'm', m, 'score', e.score, 'rank', e.rank, 'time', e.time, 'event', e.id,
        'source', e.source, 'applied_at', applied_at, 'n', (tonumber(prev[5]) or 0) + 1}
      if e.fg then fields[#fields + 1] = 'fg'; fields[#fields + 1] = e.fg end
      if e.bg then fields[#fields + 1] = 'bg'; fields[#fields + 1] = e.bg end
      redis.call('HSET', hash, unpack(fields))
      redis.call('ZADD', prefix .. 'topk:' .. e.pack, w, pair)
      packs[e.pack] = true
    end
  end
  out[#out + 1] = code
end
for pack in pairs(packs) do redis.call('SADD', prefix .. 'packs', pack) end
if #acks > 0 then redis.call('XACK', KEYS[1], group, unpack(acks)) end
return out
"""

OUTCOME_OF_CODE = {1: APPLIED, 0: DUPLICATE, 2: STALE}
