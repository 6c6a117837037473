"""The functions translated ns-eel code calls (``aivj.milk.eel``): scalar (math) and vector (numpy).

Each is total: out-of-range arguments give 0 or a clipped value instead of raising, as ns-eel does
(``x/0 = 0``, ``sqrt(|x|)``, ``log`` of ``|x|``); overflow to inf/NaN is left to the caller's sanitiser.
"""

from __future__ import annotations

import math
import random

import numpy as np

_BIG = 1e15


def _finite(x: float) -> bool:
    return -_BIG < x < _BIG


def _pow(a, b):
    try:
        r = math.pow(a, b)
    except (OverflowError, ValueError):
        return 0.0
    return r if _finite(r) else 0.0


def _exp(x):
    return math.exp(x) if x < 700.0 else math.exp(700.0)


def _int(x):
    return float(math.trunc(x)) if _finite(x) else 0.0


def _trig(fn):
    return lambda x: fn(x) if _finite(x) else 0.0


def _bit(fn):
    return lambda a, b: float(fn(int(a) if _finite(a) else 0, int(b) if _finite(b) else 0))


def scalar_namespace(seed: int) -> dict:
    rng = random.Random(seed)
    ns = {
        "_div": lambda a, b: a / b if b != 0 else 0.0,
        "_mod": lambda a, b: float(int(a) % int(b)) if _finite(a) and _finite(b) and int(b) != 0 else 0.0,
        "_pow": _pow, "_band": _bit(lambda a, b: a & b), "_bor": _bit(lambda a, b: a | b),
        "_land": lambda a, b: 1.0 if (a != 0 and b != 0) else 0.0,
        "_lor": lambda a, b: 1.0 if (a != 0 or b != 0) else 0.0,
        "_sin": math.sin, "_cos": math.cos, "_tan": _trig(math.tan),  # sin(inf) raises: the run is flagged
        "_asin": lambda x: math.asin(x) if -1.0 <= x <= 1.0 else 0.0,
        "_acos": lambda x: math.acos(x) if -1.0 <= x <= 1.0 else 0.0,
        "_atan": lambda x: math.atan(x) if x == x else 0.0,
        "_atan2": lambda a, b: math.atan2(a, b) if a == a and b == b else 0.0,
        "_sqr": lambda x: x * x, "_sqrt": lambda x: math.sqrt(abs(x)) if x == x else 0.0,
        "_exp": _exp, "_log": lambda x: math.log(abs(x)) if x != 0 and x == x else 0.0,
        "_log10": lambda x: math.log10(abs(x)) if x != 0 and x == x else 0.0,
        "_abs": abs, "_min": min, "_max": max,
        "_sign": lambda x: 1.0 if x > 0 else (-1.0 if x < 0 else 0.0),
        "_rand": lambda x: float(rng.randrange(int(x))) if _finite(x) and x >= 1 else rng.random() * max(x, 0.0) if x == x else 0.0,
        "_int": _int, "_floor": lambda x: float(math.floor(x)) if _finite(x) else 0.0,
        "_ceil": lambda x: float(math.ceil(x)) if _finite(x) else 0.0,
        "_bnot": lambda x: 1.0 if x == 0 else 0.0,
        "_sigmoid": lambda a, b: 1.0 / (1.0 + _exp(-a * b)) if a * b > -700 else 0.0,
        "_invsqrt": lambda x: 1.0 / math.sqrt(abs(x)) if x != 0 and x == x else 0.0,
        "_fmod": lambda a, b: math.fmod(a, b) if b != 0 and _finite(a) and _finite(b) else 0.0,
    }  # fmt: skip
    return {k[1:]: v for k, v in ns.items()}


def _v(fn):
    return fn  # NaN/inf are cleaned once at the end (simulate), not after every operation


def _vbit(fn):
    def op(a, b):
        a = np.nan_to_num(np.clip(a, -_BIG, _BIG)).astype(np.int64)
        b = np.nan_to_num(np.clip(b, -_BIG, _BIG)).astype(np.int64)
        return fn(a, b).astype(np.float64)

    return op


def vector_namespace(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    safe = lambda x: np.where(np.abs(x) < _BIG, x, 0.0)  # noqa: E731
    ns = {
        "_where": lambda c, a, b: np.where(c, a, b), "_cmp": lambda c: np.asarray(c, dtype=np.float64),
        "_div": _v(lambda a, b: np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)),
        "_mod": _v(lambda a, b: np.fmod(np.trunc(safe(a)), np.where(np.trunc(safe(b)) == 0, 1, np.trunc(safe(b)))) * (np.trunc(safe(b)) != 0)),
        "_pow": _v(lambda a, b: np.power(a, b)),
        "_band": _vbit(np.bitwise_and), "_bor": _vbit(np.bitwise_or),
        "_land": _v(lambda a, b: ((a != 0) & (b != 0)) * 1.0), "_lor": _v(lambda a, b: ((a != 0) | (b != 0)) * 1.0),
        "_sin": _v(lambda x: np.sin(safe(x))), "_cos": _v(lambda x: np.cos(safe(x))), "_tan": _v(lambda x: np.tan(safe(x))),
        "_asin": _v(lambda x: np.arcsin(np.clip(x, -1, 1))), "_acos": _v(lambda x: np.arccos(np.clip(x, -1, 1))),
        "_atan": _v(np.arctan), "_atan2": _v(np.arctan2), "_sqr": _v(lambda x: x * x), "_sqrt": _v(lambda x: np.sqrt(np.abs(x))),
        "_exp": _v(lambda x: np.exp(np.minimum(x, 700.0))), "_log": _v(lambda x: np.log(np.abs(x))), "_log10": _v(lambda x: np.log10(np.abs(x))),
        "_abs": _v(np.abs), "_min": _v(np.minimum), "_max": _v(np.maximum), "_sign": _v(np.sign),
        "_rand": _v(lambda x: np.floor(rng.random(np.shape(x)) * np.clip(x, 0, _BIG))),
        "_int": _v(lambda x: np.trunc(safe(x))), "_floor": _v(lambda x: np.floor(safe(x))), "_ceil": _v(lambda x: np.ceil(safe(x))),
        "_bnot": _v(lambda x: (x == 0) * 1.0), "_sigmoid": _v(lambda a, b: 1.0 / (1.0 + np.exp(np.clip(-a * b, -700, 700)))),
        "_invsqrt": _v(lambda x: np.where(x != 0, 1.0 / np.sqrt(np.abs(np.where(x != 0, x, 1.0))), 0.0)),
        "_fmod": _v(lambda a, b: np.fmod(safe(a), np.where(b != 0, b, 1.0)) * (b != 0)),
    }  # fmt: skip
    return {k[1:]: v for k, v in ns.items()}
